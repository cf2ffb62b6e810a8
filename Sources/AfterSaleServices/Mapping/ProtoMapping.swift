/// Proto ↔ domain conversions, one file per concept (KernelMapping, CasesMapping, ...).
/// Wire → domain conversions validate and throw ``DomainError/invalidArgument(field:message:)``
/// naming the wire field; domain → wire conversions cannot fail.
enum ProtoMapping {}
