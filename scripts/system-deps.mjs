// The system programs the test suites drive for real, and the Debian packages that provide them.
export const SYSTEM_DEPS = [
  { command: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { command: 'ssh', pkg: 'openssh-client' },
  { command: 'ssh-keygen', pkg: 'openssh-client' },
  { command: 'ssh-agent', pkg: 'openssh-client' },
  { command: 'ssh-add', pkg: 'openssh-client' },
  { command: 'curl', pkg: 'curl' },
  // The UI end-to-end test drives Debian's Chromium through playwright-core (no browser download).
  { command: '/usr/bin/chromium', pkg: 'chromium' },
  // Network-namespace topologies and link faults (run as root).
  { command: 'ip', pkg: 'iproute2' },
  { command: 'iptables', pkg: 'iptables' },
  // Cloud Foundry tests: a real MySQL-protocol service behind the fake foundation, its client, and
  // the throwaway CA for the foundation's HTTPS.
  { command: '/usr/sbin/mariadbd', pkg: 'mariadb-server' },
  { command: 'mariadb-install-db', pkg: 'mariadb-server' },
  { command: 'mariadb', pkg: 'mariadb-client' },
  { command: 'openssl', pkg: 'openssl' },
];
