// The system programs the test suites drive for real, and the Debian packages that provide them.
export const SYSTEM_DEPS = [
  { command: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { command: 'ssh', pkg: 'openssh-client' },
  { command: 'ssh-keygen', pkg: 'openssh-client' },
  { command: 'ssh-agent', pkg: 'openssh-client' },
  { command: 'ssh-add', pkg: 'openssh-client' },
  { command: 'curl', pkg: 'curl' },
  // Network-namespace topologies and link faults (run as root).
  { command: 'ip', pkg: 'iproute2' },
  { command: 'iptables', pkg: 'iptables' },
];
