// The dashboard's time zone switch: UTC (the default) or the browser's own zone.
import { setZone, useTimeZone, zoneLabel, type ZoneChoice } from "../timeZone";

export function ZonePicker() {
  const zone = useTimeZone();
  return (
    <label className="zone-picker">
      <span>Times in</span>
      <select value={zone} onChange={(e) => setZone(e.target.value as ZoneChoice)} data-testid="zone-picker">
        <option value="UTC">UTC</option>
        <option value="local">your zone ({zoneLabel("local")})</option>
      </select>
    </label>
  );
}
