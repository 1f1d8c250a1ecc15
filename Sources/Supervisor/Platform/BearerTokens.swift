import COpenSSL
import Foundation
import HTTPWire
import Protocol

/// The platform door's bearer tokens: JWTs (HS256) signed with a random key made at each start, so a token is
/// good only on the daemon that issued it and only until it expires, as Egeria's RS256 tokens are.
struct BearerTokens: Sendable {
    private let key: [UInt8]
    let lifetimeSeconds: Double

    /// Why a key could not be made.
    struct KeyError: Error, CustomStringConvertible {
        let description: String
    }

    init(lifetimeSeconds: Double) throws(KeyError) {
        OpenSSL.initializeLibrary()
        var key = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&key, Int32(key.count)) == 1 else { throw KeyError(description: "RAND_bytes failed: \(OpenSSL.lastError())") }
        self.key = key
        self.lifetimeSeconds = lifetimeSeconds
    }

    /// A token for `userId`, valid for ``lifetimeSeconds`` from `now` (seconds since 1970).
    func issue(userId: String, now: Double = Date().timeIntervalSince1970) -> String {
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        var writer = JSONWriter()
        let issued = Int(now)
        writer.value(.object(["sub": .string(userId), "iss": .string("self"), "displayName": .string(userId),
                              "iat": .int(issued), "exp": .int(issued + Int(lifetimeSeconds))]))
        let signingInput = header + "." + Base64URL.encode(writer.bytes)
        return signingInput + "." + Base64URL.encode(sign(Array(signingInput.utf8)))
    }

    /// The user a token was issued to, if its signature holds and it has not expired.
    func verify(_ token: String, now: Double = Date().timeIntervalSince1970) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 4096, parts.count == 3, let signature = Base64URL.decode(parts[2]),
              let payload = Base64URL.decode(parts[1]) else { return nil }
        let expected = sign(Array("\(parts[0]).\(parts[1])".utf8))
        guard Self.constantTimeEquals(expected, signature) else { return nil }
        guard case .object(let claims)? = try? JSONParser.parse(Data(payload)), case .string(let user)? = claims["sub"],
              let expiry = claims["exp"]?.doubleValue, now < expiry else { return nil }
        return user
    }

    private func sign(_ input: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = HMAC(EVP_sha256(), key, Int32(key.count), input, input.count, &output, &length)
        return Array(output.prefix(Int(length)))
    }

    /// Equal without a timing signal of where they differ (OpenSSL's CRYPTO_memcmp).
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return CRYPTO_memcmp(a, b, a.count) == 0
    }

    /// Passwords of any length compared in constant time: their SHA-256 digests are compared.
    /// What follows `Bearer ` (any case) in an Authorization header, without the spaces and tabs around it.
    static func credential(authorization header: String?) -> String? {
        guard let header else { return nil }
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        var start = scheme.count, end = bytes.count
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        return start < end ? String(decoding: bytes[start..<end], as: UTF8.self) : nil
    }

    static func passwordMatches(_ given: String, _ expected: String) -> Bool {
        constantTimeEquals(sha256(Array(given.utf8)), sha256(Array(expected.utf8)))
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        OpenSSL.initializeLibrary()
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = SHA256(bytes, bytes.count, &digest)
        return digest
    }

}
