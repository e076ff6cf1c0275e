import Testing
@testable import RPC
