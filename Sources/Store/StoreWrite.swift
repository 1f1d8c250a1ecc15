/// One ``EmbeddedStore/write(savepoint:_:completion:)`` as the writer runs it: the body, the completion and the
/// result between them in one object. Built from closures around a shared box, the same took five allocations
/// for every write. Reports, the most frequent write, have their own concrete ``ReportWrite``.
package final class StoreWrite<T: Sendable>: StoreOperation, @unchecked Sendable {
    private let savepoint: Bool
    private let body: @Sendable (SQLiteDatabase) throws -> T
    private let completion: @Sendable (Result<T, Error>) -> Void
    /// Set by `run` on the writer thread, read by `finish` after it: on the writer thread, or after the sync on
    /// ``WALSync``'s, which takes the operation through a locked queue, so no lock of its own is needed.
    private var result: Result<T, Error>?

    package init(savepoint: Bool, body: @escaping @Sendable (SQLiteDatabase) throws -> T, completion: @escaping @Sendable (Result<T, Error>) -> Void) {
        self.savepoint = savepoint
        self.body = body
        self.completion = completion
    }

    package func run(_ database: SQLiteDatabase) -> SQLiteDatabase.SQLiteError? {
        do {
            if savepoint {
                try StoreWriter.inSavepoint(database) { result = .success(try body(database)) }
            } else {
                defer { database.resetAll() }
                result = .success(try body(database))
            }
        } catch let error as SQLiteDatabase.SQLiteError where error.isStorageFailure {
            return error
        } catch {
            result = .failure(error)
        }
        return nil
    }

    package func finish(_ transactionError: Error?) {
        // A failed transaction stored nothing, whatever the operation itself made of it.
        if let transactionError { return completion(.failure(transactionError)) }
        completion(result ?? .failure(EmbeddedStore.LoadError(description: "the store's writer never ran this write")))
    }
}
