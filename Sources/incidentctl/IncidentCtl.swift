import RPC
@main struct IncidentCtl { static func main() async { print("incidentctl: not built yet") } }
