terraform {
  required_version = ">= 1.11"

  required_providers {
    # Built from source into a filesystem mirror by `datalab lab prepare`
    # (the registry is unreachable); see docs/decisions/0002-terraform-providers.md.
    docker = {
      source  = "kreuzwerker/docker"
      version = "4.6.0"
    }
  }
}

provider "docker" {
  host = var.docker_host
}
