# dhclient exit hook (sourced by dhclient-script): records every lease event with the SZTP
# redirect option as one JSON line in /var/lib/sztp-lab/dhcp-events.jsonl. The option value
# is dhclient's colon-separated, unpadded hex; the device program decodes it.
mkdir -p /var/lib/sztp-lab
printf '{"time":"%s","reason":"%s","interface":"%s","ipv4":"%s","ipv6":"%s","sztp4":"%s","sztp6":"%s"}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "${reason:-}" "${interface:-}" "${new_ip_address:-}" \
  "${new_ip6_address:-}" "${new_sztp_redirect:-}" "${new_dhcp6_sztp_redirect:-}" \
  >> /var/lib/sztp-lab/dhcp-events.jsonl
