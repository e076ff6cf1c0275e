// IncidentCore: see DESIGN.md. Work in progress.
