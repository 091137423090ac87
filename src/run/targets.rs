//! [`Targets`]: the server addresses of a live run's lookups. Each port's
//! address is resolved once per run (a name through the system resolver,
//! restricted by `-4`/`-6`).

use std::net::SocketAddr;

use crate::config::{ServerHost, ServerSpec};
use crate::error::Error;
use crate::query;
use crate::query::spec::QuerySpec;

/// The lookups' server addresses: each port's resolved once per run.
pub struct Targets<'s> {
    server: &'s ServerSpec,
    family: Option<u8>,
    known: Vec<(u16, query::Target)>,
}

impl<'s> Targets<'s> {
    /// Nothing resolved yet; `family`: 4 or 6 to use only that family.
    pub fn new(server: &'s ServerSpec, family: Option<u8>) -> Targets<'s> {
        Targets {
            server,
            family,
            known: Vec::new(),
        }
    }

    /// The address for `spec`'s port (the server's own, or the
    /// transport's default), resolved on first use.
    pub async fn get(&mut self, spec: &QuerySpec) -> Result<query::Target, Error> {
        let port = self
            .server
            .port
            .unwrap_or(spec.opts.transport.default_port());
        if let Some((_, t)) = self.known.iter().find(|(p, _)| *p == port) {
            return Ok(t.clone());
        }
        let target = resolve(self.server, self.family, port).await?;
        self.known.push((port, target.clone()));
        Ok(target)
    }
}

async fn resolve(
    server: &ServerSpec,
    family: Option<u8>,
    port: u16,
) -> Result<query::Target, Error> {
    let fits = |a: &SocketAddr| match family {
        Some(4) => a.is_ipv4(),
        Some(6) => a.is_ipv6(),
        _ => true,
    };
    match &server.host {
        ServerHost::Addr(a) if fits(a) => {
            let mut addr = *a;
            addr.set_port(port);
            Ok(query::Target { addr, host: None })
        }
        // As dig: a server that cannot be used is a usage error (exit 1),
        // not "no reply" (no server was asked).
        ServerHost::Addr(a) => Err(Error::Config(format!(
            "server {} is not an IPv{} address",
            a.ip(),
            family.unwrap_or(4)
        ))),
        ServerHost::Name(host) => {
            let addrs = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| Error::Config(format!("couldn't get address for '{host}': {e}")))?;
            let addr = addrs.into_iter().find(fits).ok_or_else(|| {
                Error::Config(format!("couldn't get address for '{host}': not found"))
            })?;
            Ok(query::Target {
                addr,
                host: Some(host.clone()),
            })
        }
    }
}
