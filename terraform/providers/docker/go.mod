// Wrapper module: builds the kreuzwerker/docker Terraform provider through the Go
// module proxy. Upstream's go.mod declares the old terraform-providers path and its
// v3+/v4 tags lack a /vN suffix, so `go install ...@vX` is refused; requiring the
// declared path and replacing it with a pinned commit of the real repository works.
module datalab.local/terraform-provider-docker

go 1.25.8

require github.com/terraform-providers/terraform-provider-docker v0.0.0-20260916201441-96d331c98ff4

// v4.6.0 (2026-09-01) plus the commits up to 96d331c (2026-09-16).
replace github.com/terraform-providers/terraform-provider-docker => github.com/kreuzwerker/terraform-provider-docker v0.0.0-20260916201441-96d331c98ff4
