package domains

// Optional interfaces a plugin implements to announce more in its InitializeResponse. Each is
// read at every Initialize.

// RoutePlugin lists the plugin's HTTP routes (InitializeResponse.http_routes): shown by
// `qntx plugin list` and GET /api/plugins/routes, and exercised by `qntx plugin check`. The
// host routes every path under /api/<name> to the plugin whether listed or not.
type RoutePlugin interface {
	DomainPlugin
	HTTPRoutes() []Route
}

// Route is one HTTP route, its path relative to /api/<name> (e.g. "/hello").
type Route struct {
	Method      string
	Path        string
	Description string
}

// SchedulePlugin announces recurring jobs of its own handlers (InitializeResponse.schedules).
type SchedulePlugin interface {
	DomainPlugin
	Schedules() []Schedule
}

// Schedule runs HandlerName every IntervalSeconds (0: never).
type Schedule struct {
	HandlerName      string
	IntervalSeconds  int
	EnabledByDefault bool
	Description      string
	// ATSCode, when set, is sent as the payload {"ats_code": …}.
	ATSCode string
}

// WatcherPlugin asks the host to enqueue a job of one of its handlers for every new
// attestation that matches a filter (InitializeResponse.watchers, ADR-003).
type WatcherPlugin interface {
	DomainPlugin
	Watchers() []Watcher
}

// Watcher is one attestation filter and the handler its matches go to. Values within a
// dimension are OR-ed, dimensions AND-ed; empty dimensions match anything.
type Watcher struct {
	ID                string
	HandlerName       string
	Subjects          []string
	Predicates        []string
	Contexts          []string
	Actors            []string
	MaxFiresPerSecond int
}
