// Names for store types that collide with generated API messages of the same name (`CreateIncidentRequest`);
// this file imports only the store, so the alias is unambiguous.
import IncidentStore

/// The store's create request, as opposed to the API's `CreateIncidentRequest` message.
typealias StoreCreateRequest = CreateIncidentRequest
/// One recorded event of an incident, for the mappings that import only the API and the core.
typealias RecordedEvent = StoredEvent
