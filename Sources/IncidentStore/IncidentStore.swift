// IncidentStore: see DESIGN.md. Work in progress.
