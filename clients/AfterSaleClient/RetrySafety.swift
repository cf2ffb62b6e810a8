import AfterSaleProto
import RPCClient

// Which requests an RPCClient with several targets may send again to another replica after the
// connection to the first was lost mid-call (see RPCClient): reads, writes guarded by an expected
// version, and writes that are idempotent by their content. Anything else is repeated only when
// the call carries an `idempotency-key`.

extension GetAfterSaleRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension ListAfterSalesRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension ListMessagesRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension GetReasonCatalogRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension GetOrderAfterSaleStateRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension ListRefundsRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension HealthCheckRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension ListServicesRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension DescribeMessageRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }

// Idempotent by content: a newer snapshot replaces, an equal one is UNCHANGED; an acknowledgement
// never moves back; a repeated carrier event or payment report is recognised as a duplicate.
extension UpsertOrderRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension AcknowledgeEventsRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension IngestTrackingEventRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }
extension ReportRefundResultRequest: RetrySafeRequest { public var isSafeToRetry: Bool { true } }

// Guarded by an expected version: a second copy meets a version conflict instead of applying twice.
extension WithdrawAfterSaleRequest: RetrySafeRequest { public var isSafeToRetry: Bool { expectedVersion != nil } }
extension ReviewAfterSaleRequest: RetrySafeRequest { public var isSafeToRetry: Bool { expectedVersion != nil } }
extension SubmitReturnShipmentRequest: RetrySafeRequest { public var isSafeToRetry: Bool { expectedVersion != nil } }
extension ConfirmReturnReceivedRequest: RetrySafeRequest { public var isSafeToRetry: Bool { expectedVersion != nil } }
extension ShipReplacementRequest: RetrySafeRequest { public var isSafeToRetry: Bool { expectedVersion != nil } }
extension ConfirmReplacementReceivedRequest: RetrySafeRequest { public var isSafeToRetry: Bool { expectedVersion != nil } }
extension ForceRefundRequest: RetrySafeRequest { public var isSafeToRetry: Bool { expectedVersion != nil } }
extension RequeueRefundRequest: RetrySafeRequest { public var isSafeToRetry: Bool { expectedVersion != nil } }
extension UpsertReasonRequest: RetrySafeRequest { public var isSafeToRetry: Bool { expectedVersion != nil } }
