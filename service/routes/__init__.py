"""HTTP routes: the versioned API, operations endpoints and the clinician preview page."""
