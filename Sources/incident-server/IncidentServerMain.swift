import IncidentServer
@main struct IncidentServerMain { static func main() async { print("incident-server: not built yet") } }
