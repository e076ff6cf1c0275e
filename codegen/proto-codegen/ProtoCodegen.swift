import ProtoSyntax
@main struct ProtoCodegen { static func main() { } }
