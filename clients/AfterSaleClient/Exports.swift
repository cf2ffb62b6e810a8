// The typed stubs extend `RPCClient`: a caller that imports this module gets the client runtime too.
@_exported import RPCClient
