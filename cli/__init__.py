"""The command-line face: Typer commands over the services (`headroom ...`)."""
