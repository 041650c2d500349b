#!/bin/sh
# Turns a debootstrap rootfs into the DataLab host base image (run by `datalab lab
# prepare` with the rootfs as $1 and the Debian mirror as $2). Each host is a Debian
# bookworm server with systemd as PID 1 and sshd: key auth only, no root login, an
# unprivileged admin user with sudo for Ansible.
set -eu
root=$1
mirror=$2

cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES

# Per-host identity: machine-id and SSH host keys are made at first boot, never shared.
: > "$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
cat > "$root/etc/systemd/system/ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys on first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/ssh-hostkeys.service \
  "$root/etc/systemd/system/multi-user.target.wants/ssh-hostkeys.service"

# sshd: keys only; authorized keys are root-owned files placed by Terraform.
mkdir -p "$root/etc/ssh/authorized_keys"
cat > "$root/etc/ssh/sshd_config.d/10-datalab.conf" <<'SSHD'
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UseDNS no
SSHD

# The admin user Ansible connects as (locked password: key login only).
chroot "$root" useradd --create-home --shell /bin/bash --comment "DataLab admin" datalab
echo 'datalab ALL=(ALL) NOPASSWD: ALL' > "$root/etc/sudoers.d/datalab"
chmod 0440 "$root/etc/sudoers.d/datalab"

# Units that make no sense in a container (no consoles, no kernel to tune at boot).
for unit in getty@tty1.service console-getty.service systemd-udevd.service \
  systemd-udev-trigger.service systemd-modules-load.service sys-kernel-config.mount \
  systemd-remount-fs.service systemd-firstboot.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/tmp/*
