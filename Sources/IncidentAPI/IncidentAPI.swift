// IncidentAPI: generated at build time from Protos/ by ProtoCodegenPlugin; this file only anchors the target.
