/// Every port a storage backend provides: what `aftersaled` hands the services. Each service
/// holds only the ports it uses.
public protocol AfterSaleRepository: OrderRepository, CaseRepository, MessageRepository, ReasonCatalogRepository,
    RefundRepository, EventFeedRepository, IdempotencyRepository, StoreHealthRepository, TimerRepository, DeskRepository, AuditRepository, FeedbackRepository,
    PersonalDataKeyRepository, KnowledgeRepository, StatisticsRepository, BusinessGaugeRepository, DisputeRepository {}
