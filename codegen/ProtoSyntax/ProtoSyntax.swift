// ProtoSyntax: the proto3 parser.
