/// The wire protocol's version; bumped only on a breaking change (new methods and fields are additive).
public enum ProtocolVersion {
    public static let current = 1
}
