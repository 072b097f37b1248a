//! tokio_echo: an echo server for wireframe's wire format (u32 big-endian length prefix, then the
//! body) written the way a Tokio user would: tokio-util's `LengthDelimitedCodec` in a `Framed`.
//! Every frame goes back unchanged, prefix included (the codec strips the prefix on decode and
//! writes it again on encode). Unlike wireframe and the C++ baselines it does not look at the
//! envelope: it echoes every frame, whatever its message id.
//!
//!   tokio_echo [--host ADDR] [--port N] [--workers N]
//!
//! --workers 1 runs a current_thread runtime (one thread, like one io_context), more a
//! multi-thread runtime with that many workers. Prints "listening on HOST:PORT" first on stdout;
//! exits 0 on SIGINT/SIGTERM.
use std::io::{self, Write};
use std::time::Duration;

use futures::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

const MAX_FRAME: usize = 16 * 1024 * 1024;
// The same 64 KiB read buffer as the C++ baseline (Framed's default is 8 KiB).
const READ_CAPACITY: usize = 64 * 1024;

async fn echo(socket: TcpStream) -> io::Result<()> {
    socket.set_nodelay(true)?;
    let codec = LengthDelimitedCodec::builder()
        .length_field_length(4) // big-endian is the default
        .max_frame_length(MAX_FRAME)
        .new_codec();
    let mut framed = Framed::with_capacity(socket, codec, READ_CAPACITY);
    while let Some(frame) = framed.next().await {
        framed.feed(frame?.freeze()).await?;
        // Queue every frame that is already here (buffered, or readable without waiting), then
        // flush once: the batching a Netty handler gets by flushing in channelReadComplete.
        // (`feed` itself writes once 8 KiB are queued: Framed's fixed back-pressure boundary.)
        while let Some(next) = framed.next().now_or_never() {
            match next {
                Some(frame) => framed.feed(frame?.freeze()).await?,
                None => return framed.flush().await, // EOF: send what is queued, then close
            }
        }
        framed.flush().await?;
    }
    Ok(())
}

async fn accept_loop(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                tokio::spawn(async move {
                    let _ = echo(socket).await; // an error ends only that connection
                });
            }
            // e.g. out of file descriptors: back off briefly instead of spinning
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

struct Options {
    host: String,
    port: u16,
    workers: usize,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options { host: "127.0.0.1".into(), port: 7879, workers: 1 };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("missing value after '{flag}'"))?;
        let bad = || format!("bad value '{value}' for '{flag}'");
        match flag.as_str() {
            "--host" => opts.host = value.clone(),
            "--port" => opts.port = value.parse().map_err(|_| bad())?,
            "--workers" => match value.parse::<usize>() {
                Ok(n) if (1..=1024).contains(&n) => opts.workers = n,
                _ => return Err(bad()),
            },
            _ => return Err(format!("bad argument '{flag}'")),
        }
    }
    Ok(opts)
}

fn main() {
    let opts = parse_args().unwrap_or_else(|e| {
        eprintln!("tokio_echo: {e}\nusage: tokio_echo [--host ADDR] [--port N] [--workers N]");
        std::process::exit(2);
    });
    let mut builder = if opts.workers == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(opts.workers);
        b
    };
    let runtime = builder.enable_all().build().expect("tokio runtime");
    let code = runtime.block_on(async {
        let listener = match TcpListener::bind((opts.host.as_str(), opts.port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("tokio_echo: cannot listen on {}:{}: {e}", opts.host, opts.port);
                return 1;
            }
        };
        let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(t), Ok(i)) => (t, i),
            _ => {
                eprintln!("tokio_echo: cannot install signal handlers");
                return 1;
            }
        };
        // SocketAddr prints "127.0.0.1:PORT" and "[::1]:PORT", the format of the C++ servers.
        let local = listener.local_addr().expect("local address");
        println!("listening on {local}");
        let _ = io::stdout().flush();
        tokio::spawn(accept_loop(listener));
        futures::future::select(Box::pin(term.recv()), Box::pin(int.recv())).await;
        0
    });
    // Dropping the runtime cancels the connections' tasks: no drain, like the C++ baseline.
    drop(runtime);
    std::process::exit(code);
}
