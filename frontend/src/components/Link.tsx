// An anchor that changes view without reloading the page; modified clicks (new tab) keep the browser's behaviour.
import type { AnchorHTMLAttributes, MouseEvent } from "react";
import { navigate } from "../urlState";

export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  function follow(e: MouseEvent<HTMLAnchorElement>) {
    onClick?.(e);
    if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || e.button !== 0) return;
    e.preventDefault();
    navigate(to);
    window.scrollTo({ top: 0 });
  }
  return <a href={to} onClick={follow} {...rest} />;
}
