// IncidentServer: see DESIGN.md. Work in progress.
