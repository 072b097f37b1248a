// NettyEcho: the Netty competitor of the echo comparison (docs/performance.md). An echo server for
// wireframe's wire format (u32 big-endian length prefix, then the body) written the way a Netty
// user would: a LengthFieldBasedFrameDecoder cuts the stream into frames (prefix kept), the
// handler writes each frame's ByteBuf back unchanged and flushes once per read batch
// (channelReadComplete), NIO transport. Unlike wireframe and the C++ baselines it does not look
// at the envelope: it echoes every frame, whatever its message id.
//
//   java -cp <classes>:<netty jars> NettyEcho [--host ADDR] [--port N] [--workers N]
//
// One boss thread accepts; --workers is the number of NIO event loop threads serving
// connections. Prints "listening on HOST:PORT" first on stdout; on SIGINT/SIGTERM the JVM runs
// the shutdown hook, which closes the event loops, and exits.
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

public final class NettyEcho {
  // Body up to 16 MiB; Netty's maxFrameLength counts the 4-byte prefix too.
  private static final int MAX_FRAME = 16 * 1024 * 1024 + 4;

  // Stateless, so one instance serves every connection.
  @ChannelHandler.Sharable
  static final class Echo extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object frame) {
      ctx.write(frame, ctx.voidPromise());  // the frame's ByteBuf, released once written
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();  // one flush (gathered write) per batch of reads, not one per frame
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();  // e.g. a frame over MAX_FRAME or a reset: end only this connection
    }
  }

  private static void usage(String message) {
    System.err.println("netty_echo: " + message
        + "\nusage: netty_echo [--host ADDR] [--port N] [--workers N]");
    System.exit(2);
  }

  public static void main(String[] args) throws Exception {
    String host = "127.0.0.1";
    int port = 7879;
    int workers = 1;
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) usage("missing value after '" + args[i] + "'");
      String value = args[i + 1];
      try {
        switch (args[i]) {
          case "--host": host = value; break;
          case "--port": port = Integer.parseInt(value); break;
          case "--workers": workers = Integer.parseInt(value); break;
          default: usage("bad argument '" + args[i] + "'");
        }
      } catch (NumberFormatException e) {
        usage("bad value '" + value + "' for '" + args[i] + "'");
      }
      if (port < 0 || port > 65535 || workers < 1 || workers > 1024) {
        usage("bad value '" + value + "' for '" + args[i] + "'");
      }
    }

    EventLoopGroup boss = new NioEventLoopGroup(1);
    EventLoopGroup group = new NioEventLoopGroup(workers);
    Echo echo = new Echo();
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(boss, group)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 4096)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            // lengthFieldOffset 0, lengthFieldLength 4 (big-endian), lengthAdjustment 0,
            // initialBytesToStrip 0: each frame keeps its prefix, so it goes back as it came.
            ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(MAX_FRAME, 0, 4, 0, 0), echo);
          }
        });
    Channel server;
    try {
      server = bootstrap.bind(host, port).sync().channel();
    } catch (Exception e) {
      System.err.println("netty_echo: cannot listen on " + host + ":" + port + ": " + e);
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      System.exit(1);
      return;
    }
    InetSocketAddress local = (InetSocketAddress) server.localAddress();
    String address = local.getAddress().getHostAddress();
    if (address.contains(":")) address = "[" + address + "]";  // IPv6, as the C++ servers print it
    System.out.println("listening on " + address + ":" + local.getPort());
    System.out.flush();

    // The JVM turns SIGINT/SIGTERM into an orderly exit that runs this hook (exit status 130/143).
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close().awaitUninterruptibly(1000);
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2000);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2000);
    }));
    server.closeFuture().sync();
  }
}
