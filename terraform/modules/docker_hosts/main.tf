# Local hosts: Docker containers that behave like Debian servers (systemd as PID 1,
# sshd, a fixed address, persistent data), on a private network with no route out:
# packages and artifacts reach them only through the lab services address.

locals {
  prefix = "datalab-${var.environment}"
  labels = {
    "datalab.environment" = var.environment
    "datalab.managed-by"  = "terraform"
  }
}

resource "docker_network" "this" {
  name   = local.prefix
  driver = "bridge"

  ipam_config {
    subnet  = var.network_cidr
    gateway = cidrhost(var.network_cidr, 1)
  }

  # No NAT: hosts cannot reach the outside world, as on an isolated site.
  options = {
    "com.docker.network.bridge.enable_ip_masquerade" = "false"
  }

  dynamic "labels" {
    for_each = local.labels
    content {
      label = labels.key
      value = labels.value
    }
  }
}

resource "docker_volume" "data" {
  for_each = var.hosts
  name     = "${local.prefix}-${each.key}-data"

  dynamic "labels" {
    for_each = local.labels
    content {
      label = labels.key
      value = labels.value
    }
  }
}

resource "docker_container" "host" {
  for_each = var.hosts

  name       = "${local.prefix}-${each.key}"
  hostname   = each.key
  domainname = var.domain
  image      = var.image
  command    = ["/lib/systemd/systemd"]
  restart    = "unless-stopped"
  memory     = each.value.memory_mb
  # Docker's own default (twice the memory), stated so a re-apply sees no difference.
  memory_swap = each.value.memory_mb * 2

  # What systemd needs as PID 1 in a container on this kernel (no --privileged:
  # CAP_SYS_RESOURCE is not in the bounding set here); NET_ADMIN for the host's own
  # nftables firewall in its network namespace.
  cgroupns_mode = "host"
  capabilities {
    add = ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"] # the names Docker reports back: no diff on re-apply
  }
  tmpfs = {
    "/run"      = "rw,exec"
    "/run/lock" = "rw"
  }
  volumes {
    host_path      = "/sys/fs/cgroup"
    container_path = "/sys/fs/cgroup"
    read_only      = false
  }
  volumes {
    volume_name    = docker_volume.data[each.key].name
    container_path = var.data_mount
  }
  stop_signal  = "SIGRTMIN+3"
  stop_timeout = 10

  networks_advanced {
    name         = docker_network.this.id
    ipv4_address = each.value.address
  }

  upload {
    file    = "/etc/ssh/authorized_keys/${var.ssh_user}"
    content = "${trimspace(var.ssh_authorized_key)}\n"
  }

  # apply returns once sshd answers on every host.
  healthcheck {
    test         = ["CMD", "systemctl", "is-active", "--quiet", "ssh.service"]
    interval     = "1s"
    timeout      = "5s"
    retries      = 60
    start_period = "1s"
  }
  wait         = true
  wait_timeout = 90

  dynamic "labels" {
    for_each = merge(local.labels, { "datalab.group" = each.value.group })
    content {
      label = labels.key
      value = labels.value
    }
  }
}
