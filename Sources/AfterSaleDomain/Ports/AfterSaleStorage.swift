/// Everything after-sales stores, behind one value the service holds.
public protocol AfterSaleRepository: OrderRepository, CaseRepository, MessageRepository, ReasonCatalogRepository,
    RefundRepository, EventFeedRepository {}
