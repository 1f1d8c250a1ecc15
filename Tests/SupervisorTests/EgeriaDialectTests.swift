import Foundation
import Protocol
import Testing
@testable import Forwarding
@testable import Supervisor

/// Each Egeria API version's paths, and what a version lacks, decided by its dialect alone.
@Suite("Egeria dialects")
struct EgeriaDialectTests {
    static func config(_ version: EgeriaServerConfig.APIVersion) -> EgeriaServerConfig {
        var config = EgeriaServerConfig(omagserverPlatformRootURL: "https://egeria:9443", omagserverName: "active metadata", userId: "erinoverview")
        config.apiVersion = version
        return config
    }

    @Test("the version in the configuration picks the dialect, its service base and its token rule")
    func choice() {
        let six = EgeriaDialects.make(Self.config(.v6)), five = EgeriaDialects.make(Self.config(.v5))
        #expect(six is Egeria6Dialect && five is Egeria5Dialect)
        #expect(six.servicePath(rootPath: "/egeria") == "/egeria/servers/active%20metadata/open-metadata/access-services/open-metadata-store/users/erinoverview/")
        #expect(five.servicePath(rootPath: "") == "/servers/active%20metadata/open-metadata/framework-services/asset-manager/")
        #expect(six.usesTokenAPI && !five.usesTokenAPI)
    }

    @Test("Egeria 6 makes every element, relationship and classification call under its element API")
    func egeria6Paths() throws {
        let six = EgeriaDialects.make(Self.config(.v6))
        #expect(try six.updateElement(guid: "g 1", properties: [:], replace: false, externalSourceName: nil).get().path == "metadata-elements/g%201/update-properties")
        #expect(try six.relate(typeName: "DataFlow", end1GUID: "a", end2GUID: "b", properties: [:], externalSourceName: nil).get().path == "related-elements")
        #expect(try six.classify(guid: "g", name: "Anchors", properties: [:], existing: true, externalSourceName: nil).get().path
                == "metadata-elements/g/classifications/Anchors/update-properties")
        #expect(try six.declassify(guid: "g", name: "Anchors", externalSourceName: nil).get().path == "metadata-elements/g/classifications/Anchors/delete")
    }

    @Test("Egeria 5 refuses relationships, classifications and parents, saying to use 6; its elements go under the user's store path")
    func egeria5Limits() throws {
        let five = EgeriaDialects.make(Self.config(.v5))
        let refusal = EgeriaClient.Outcome.reject(Egeria5Dialect.structureNeeds6)
        #expect(five.relate(typeName: "DataFlow", end1GUID: "a", end2GUID: "b", properties: [:], externalSourceName: nil).failure == refusal)
        #expect(five.unrelate(relationshipGUID: "r", externalSourceName: nil).failure == refusal)
        #expect(five.classify(guid: "g", name: "Anchors", properties: [:], existing: false, externalSourceName: nil).failure == refusal)
        #expect(five.declassify(guid: "g", name: "Anchors", externalSourceName: nil).failure == refusal)
        let child = CreateElement.Params(connectorName: "c", typeName: "Column", qualifiedName: "q", properties: [:], metadataSourceQualifiedName: nil,
                                         parent: .init(parentGUID: "p", relationshipTypeName: "NestedSchemaAttribute"))
        #expect(five.createElement(child).failure == refusal)
        #expect(try five.deleteElement(guid: "g", externalSourceName: nil).get().path == "open-metadata-store/users/erinoverview/metadata-elements/g/delete")
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
