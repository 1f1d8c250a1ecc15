/// `shutdown` (supervisor → worker): disconnect every connector and answer; the worker then exits 0.
public enum Shutdown: RPCMethod {
    public static let name = "shutdown"
    public typealias Params = Empty
    public typealias Result = Empty
}
