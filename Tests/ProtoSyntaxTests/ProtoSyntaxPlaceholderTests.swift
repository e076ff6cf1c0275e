import Testing
@testable import ProtoSyntax
