// resolv.conf as the agent (pod DNS) and the cluster DNS server (upstreams) read it.
export interface ResolvConf {
  servers: string[];
  searches: string[];
  options: string[];
}

/** nameserver, search (or domain) and options lines; comments and anything else ignored. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { servers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}
