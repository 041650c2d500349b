# Root stack for the docker host driver: local containers acting as Debian servers.
# Thin: it lays out addresses, makes the hosts, and emits the inventory contract.

locals {
  # Fixed address blocks per group, so adding a host never renumbers the others.
  group_offset = { control = 10, data = 20, compute = 30 }
  fqdn_domain  = "${var.environment}.${var.domain}"
  ssh_key_dir  = pathexpand(var.ssh_key_dir)

  hosts = merge([
    for group, spec in var.host_groups : {
      for i in range(1, spec.count + 1) : "${group}-${i}" => {
        address   = cidrhost(var.network_cidr, local.group_offset[group] + i)
        group     = group
        memory_mb = spec.memory_mb
      }
    }
  ]...)
}

# Guard: one state per environment, kept apart by Terraform workspaces.
resource "terraform_data" "workspace_guard" {
  input = var.environment

  lifecycle {
    precondition {
      condition     = terraform.workspace == var.environment
      error_message = "Terraform workspace \"${terraform.workspace}\" does not match environment \"${var.environment}\": run `terraform workspace select -or-create ${var.environment}` first (datalab does this for you)."
    }
  }
}

module "hosts" {
  source = "../modules/docker_hosts"

  environment        = var.environment
  network_cidr       = var.network_cidr
  hosts              = local.hosts
  domain             = local.fqdn_domain
  image              = var.host_image
  ssh_user           = var.ssh_user
  ssh_authorized_key = file("${local.ssh_key_dir}/id_ed25519.pub")

  depends_on = [terraform_data.workspace_guard]
}

module "inventory" {
  source = "../modules/inventory"

  environment = var.environment
  driver      = "docker"
  hosts       = module.hosts.hosts
  placement   = var.service_placement
  vars = {
    datalab_environment          = var.environment
    datalab_domain               = local.fqdn_domain
    datalab_object_store_backend = var.object_store_backend
    datalab_vault_flavour        = var.vault_flavour
    datalab_certificate_ttl      = var.certificate_ttl
    datalab_job_schedules        = var.job_schedules
    datalab_apt_proxy            = var.apt_proxy
    datalab_artifact_url         = var.artifact_url
    datalab_network_cidr         = var.network_cidr
    # Where operators and Ansible come from (SSH is allowed only from there): the
    # Docker host, i.e. the network's gateway.
    datalab_admin_sources        = [cidrhost(var.network_cidr, 1)]
    ansible_user                 = var.ssh_user
    ansible_ssh_private_key_file = "${local.ssh_key_dir}/id_ed25519"
    datalab_known_hosts_file     = "${local.ssh_key_dir}/known_hosts"
    datalab_state_dir            = local.ssh_key_dir
  }
}
