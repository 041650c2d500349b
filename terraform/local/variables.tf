# Every input is typed, described and validated: a bad environment file fails at plan
# with a message that names the variable, before anything is created.

variable "environment" {
  description = "Environment name (dev, staging, ...). Must match the Terraform workspace."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 characters: lowercase letters, digits and '-', starting with a letter."
  }
}

variable "network_cidr" {
  description = "IPv4 range of the hosts' private network (prefix /16 to /26; host addresses start at .11)."
  type        = string

  validation {
    condition     = can(cidrhost(var.network_cidr, 0)) && can(regex("^\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+$", var.network_cidr))
    error_message = "network_cidr must be an IPv4 CIDR such as 172.30.10.0/24."
  }
  validation {
    condition     = try(tonumber(split("/", var.network_cidr)[1]) >= 16 && tonumber(split("/", var.network_cidr)[1]) <= 26, true)
    error_message = "network_cidr prefix must be between /16 and /26 (host groups use .11-.19, .21-.29, .31-.39)."
  }
  validation {
    condition     = try(cidrhost(var.network_cidr, 0) == split("/", var.network_cidr)[0], true)
    error_message = "network_cidr must name the network address of its range (e.g. 172.30.10.0/24, not 172.30.10.5/24)."
  }
  validation {
    # Two ranges overlap when they agree on the shorter of their two prefixes.
    # (try(..., true): a malformed value is reported by the first rule alone.)
    condition = try(alltrue([
      for reserved in var.reserved_cidrs :
      cidrhost("${split("/", var.network_cidr)[0]}/${min(tonumber(split("/", var.network_cidr)[1]), tonumber(split("/", reserved)[1]))}", 0)
      != cidrhost("${split("/", reserved)[0]}/${min(tonumber(split("/", var.network_cidr)[1]), tonumber(split("/", reserved)[1]))}", 0)
    ]), true)
    error_message = "network_cidr overlaps a reserved range (reserved_cidrs: Docker's default bridge, the lab services address); pick another range."
  }
}

variable "reserved_cidrs" {
  description = "Ranges the hosts' network must not overlap: Docker's default bridge and the lab services address."
  type        = list(string)
  default     = ["172.17.0.0/16", "172.31.255.0/24"]
}

variable "host_groups" {
  description = "Hosts per group: count (1-9) and memory limit in MiB. Groups: control (Vault, etcd, Postgres), data (object store, Kafka), compute (Spark, Prefect workers)."
  type = map(object({
    count     = number
    memory_mb = optional(number, 2048)
  }))

  validation {
    condition     = length(setsubtract(["control", "data", "compute"], keys(var.host_groups))) == 0 && length(var.host_groups) == 3
    error_message = "host_groups must define exactly the groups control, data and compute."
  }
  validation {
    condition     = alltrue([for g in values(var.host_groups) : g.count >= 1 && g.count <= 9 && floor(g.count) == g.count])
    error_message = "host_groups: every group needs a whole count from 1 to 9."
  }
  validation {
    condition     = alltrue([for g in values(var.host_groups) : g.memory_mb >= 256 && g.memory_mb <= 65536])
    error_message = "host_groups: memory_mb must be between 256 and 65536."
  }
}

variable "service_placement" {
  description = "Service group -> host group it runs on, and how many of that group's hosts it takes (omit max_hosts for all)."
  type = map(object({
    group     = string
    max_hosts = optional(number)
  }))
  default = {
    vault           = { group = "control" }
    etcd            = { group = "control" }
    postgres        = { group = "control", max_hosts = 1 }
    mlflow          = { group = "control", max_hosts = 1 }
    prefect_server  = { group = "control", max_hosts = 1 }
    prometheus      = { group = "control", max_hosts = 1 }
    perses          = { group = "control", max_hosts = 1 }
    object_store    = { group = "data" }
    kafka           = { group = "data" }
    spark_master    = { group = "compute", max_hosts = 1 }
    spark_workers   = { group = "compute" }
    prefect_workers = { group = "compute" }
  }

  validation {
    condition     = alltrue([for s in values(var.service_placement) : contains(["control", "data", "compute"], s.group)])
    error_message = "service_placement: every service's group must be one of control, data, compute."
  }
}

variable "object_store_backend" {
  description = "S3 object store implementation: seaweedfs (default, maintained) or minio."
  type        = string
  default     = "seaweedfs"

  validation {
    condition     = contains(["seaweedfs", "minio"], var.object_store_backend)
    error_message = "object_store_backend must be \"seaweedfs\" or \"minio\"."
  }
}

variable "vault_flavour" {
  description = "Secrets server: openbao (default, MPL-2.0) or vault (HashiCorp Vault)."
  type        = string
  default     = "openbao"

  validation {
    condition     = contains(["openbao", "vault"], var.vault_flavour)
    error_message = "vault_flavour must be \"openbao\" or \"vault\"."
  }
}

variable "certificate_ttl" {
  description = "Lifetime of service certificates issued by the Vault PKI, in hours (e.g. \"720h\")."
  type        = string
  default     = "720h"

  validation {
    condition     = try(can(regex("^[0-9]+h$", var.certificate_ttl)) && tonumber(trimsuffix(var.certificate_ttl, "h")) >= 1 && tonumber(trimsuffix(var.certificate_ttl, "h")) <= 8760, false)
    error_message = "certificate_ttl must be hours between 1h and 8760h, written like \"720h\"."
  }
}

variable "domain" {
  description = "DNS domain of the hosts; a host's FQDN is <name>.<environment>.<domain>."
  type        = string
  default     = "datalab.internal"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.domain))
    error_message = "domain must be a DNS name such as datalab.internal."
  }
}

variable "host_image" {
  description = "Local Docker image of the host OS, built by `datalab lab prepare`."
  type        = string
  default     = "datalab-host:bookworm"
}

variable "ssh_user" {
  description = "Admin user Ansible connects as (exists in the host image; sudo, key login only)."
  type        = string
  default     = "datalab"
}

variable "ssh_key_dir" {
  description = "Directory outside git holding this environment's SSH key pair (id_ed25519[.pub]) and pinned host keys (known_hosts); made by `datalab lab prepare`."
  type        = string

  validation {
    condition     = fileexists(pathexpand("${var.ssh_key_dir}/id_ed25519.pub"))
    error_message = "ssh_key_dir has no id_ed25519.pub: run `datalab lab prepare --env <environment>` to create the environment's SSH key, or point ssh_key_dir at an existing key pair."
  }
}

variable "apt_proxy" {
  description = "HTTP proxy the hosts use for Debian packages (null = direct access to their configured mirror)."
  type        = string
  default     = null

  validation {
    condition     = var.apt_proxy == null ? true : can(regex("^https?://[^/\\s]+/?$", var.apt_proxy))
    error_message = "apt_proxy must be null or a URL such as http://172.31.255.1:3142."
  }
}

variable "artifact_url" {
  description = "Base URL of the artifact store the roles install binaries from (the lab store, an internal mirror, or a release site laid out the same way)."
  type        = string

  validation {
    condition     = can(regex("^https?://[^\\s]+$", var.artifact_url))
    error_message = "artifact_url must be an http(s) URL such as http://172.31.255.1:8800."
  }
}

variable "docker_host" {
  description = "Docker engine endpoint that runs the hosts."
  type        = string
  default     = "unix:///var/run/docker.sock"
}

variable "job_schedules" {
  description = "Cron schedules (5 fields, UTC) of the deployed jobs, by deployment: medallion, train-orders-model, lake-maintenance. `datalab deploy` sets them; a job not named runs only when asked (`datalab run`)."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for name, cron in var.job_schedules :
      contains(["medallion", "train-orders-model", "lake-maintenance"], name) && can(regex("^\\S+( \\S+){4}$", cron))
    ])
    error_message = "job_schedules maps medallion, train-orders-model or lake-maintenance to a 5-field cron line, like { \"lake-maintenance\" = \"0 3 * * *\" }."
  }
}
