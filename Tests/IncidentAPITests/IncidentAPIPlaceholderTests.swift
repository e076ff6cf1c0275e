import Testing
@testable import IncidentAPI
