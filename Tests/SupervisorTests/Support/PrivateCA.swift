import Foundation

/// A throwaway CA and a server certificate for `localhost`, made with the openssl command for a TLS test.
struct PrivateCA {
    let caCert: String
    let serverCert: String
    let serverKey: String

    init(directory: String) throws {
        caCert = directory + "/ca.pem"
        serverCert = directory + "/server.pem"
        serverKey = directory + "/server.key"
        let script = """
        set -e
        cd '\(directory)'
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=integration-daemon test CA' 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=localhost' 2>/dev/null
        printf 'subjectAltName=DNS:localhost\\n' > san.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext 2>/dev/null
        """
        let result = try DaemonHarness.run(["/bin/sh", "-c", script])
        guard result.code == 0, FileManager.default.fileExists(atPath: serverCert) else {
            throw HarnessError("openssl could not make the test certificates: \(result.stderr)")
        }
    }
}
