// ProtoWire: see DESIGN.md. Work in progress.
