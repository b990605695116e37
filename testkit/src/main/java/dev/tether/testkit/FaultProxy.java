package dev.tether.testkit;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A fault-injecting TCP proxy for tests, on Netty: listens on 127.0.0.1 on a free port and forwards
 * every connection to a target. Faults are real socket behaviour: {@link #cutAll()} resets (RST),
 * {@link #closeAll()} closes (FIN), {@link #blackhole(boolean)} stops forwarding while keeping the
 * sockets open (a half-open connection as seen through a dead NAT), {@link #latency(Duration)}
 * delays every chunk, {@link #bandwidth(long)} throttles both directions,
 * {@link #swallowWebSocketClose(boolean)} drops WebSocket close frames (in both directions) while
 * forwarding everything else, {@link #refuse(boolean)} resets new connections at once.
 */
public final class FaultProxy implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Set<Pair> pairs = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final String targetHost;
    private volatile int targetPort;
    private volatile boolean blackhole;
    private volatile boolean refuse;
    private volatile long latencyNanos;
    private volatile long bytesPerSecond;
    private volatile boolean swallowClose;
    private final Channel server;

    private FaultProxy(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(shaper(bytesPerSecond), new Front());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    /**
     * @param targetHost where to forward
     * @param targetPort the target port
     * @return a running proxy
     */
    public static FaultProxy start(String targetHost, int targetPort) {
        return new FaultProxy(targetHost, targetPort);
    }

    /** @return the proxy's port on 127.0.0.1 */
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** @param port forward new connections to this target port from now on (e.g. a restarted server) */
    public void retarget(int port) {
        this.targetPort = port;
    }

    /** @param on stop (true) or resume (false) forwarding in both directions; sockets stay open */
    public void blackhole(boolean on) {
        this.blackhole = on;
    }

    /** @param on reset new connections at once (true) or accept them again (false) */
    public void refuse(boolean on) {
        this.refuse = on;
    }

    /** @param delay added to every forwarded chunk, in both directions */
    public void latency(Duration delay) {
        this.latencyNanos = delay.toNanos();
    }

    /**
     * @param bytesPerSecond limit for each direction of each connection, 0 for none
     */
    public void bandwidth(long bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
        for (Pair p : pairs) {
            shape(p.front);
            Channel b = p.back;
            if (b != null) {
                shape(b);
            }
        }
    }

    /** @param on drop WebSocket close frames in both directions (true), or forward them again (false) */
    public void swallowWebSocketClose(boolean on) {
        this.swallowClose = on;
    }

    private void shape(Channel ch) {
        io.netty.handler.traffic.ChannelTrafficShapingHandler h = ch.pipeline().get(io.netty.handler.traffic.ChannelTrafficShapingHandler.class);
        if (h != null) {
            h.configure(bytesPerSecond, 0);
        }
    }

    private static io.netty.handler.traffic.ChannelTrafficShapingHandler shaper(long bytesPerSecond) {
        return new io.netty.handler.traffic.ChannelTrafficShapingHandler(bytesPerSecond, 0, 100);
    }

    /** Resets (RST) every open connection, on both sides. */
    public void cutAll() {
        pairs.forEach(p -> p.close(true));
    }

    /** Closes (FIN) every open connection, on both sides. */
    public void closeAll() {
        pairs.forEach(p -> p.close(false));
    }

    /** @return how many client connections are open through the proxy now */
    public int connectionCount() {
        return pairs.size();
    }

    /** @return how many client connections the proxy has accepted since it started */
    public int acceptedCount() {
        return accepted.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        pairs.forEach(p -> p.close(false));
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static void closeChannel(Channel ch, boolean reset) {
        // On the channel's own event loop: the socket may be closing already, and that is fine.
        ch.eventLoop().execute(() -> {
            if (!ch.isOpen()) {
                return;
            }
            if (reset) {
                try {
                    ch.config().setOption(ChannelOption.SO_LINGER, 0);
                } catch (io.netty.channel.ChannelException closing) {
                    // closed between the check and the option: a FIN instead of a RST, still closed
                }
            }
            ch.close();
        });
    }

    private final class Pair {
        final Channel front;
        volatile @Nullable Channel back;
        final WebSocketCloseFilter upstream = new WebSocketCloseFilter(() -> swallowClose);
        final WebSocketCloseFilter downstream = new WebSocketCloseFilter(() -> swallowClose);

        Pair(Channel front) {
            this.front = front;
        }

        void close(boolean reset) {
            front.eventLoop().execute(() -> {
                upstream.release();
                downstream.release();
            });
            closeChannel(front, reset);
            Channel b = back;
            if (b != null) {
                closeChannel(b, reset);
            }
            pairs.remove(this);
        }
    }

    private void forward(Object msg, Channel to, WebSocketCloseFilter filter) {
        if (blackhole || !to.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ByteBuf buf) {
            for (ByteBuf chunk : filter.filter(buf, to.alloc())) {
                forwardChunk(chunk, to);
            }
            return;
        }
        forwardChunk(msg, to);
    }

    private void forwardChunk(Object msg, Channel to) {
        long delay = latencyNanos;
        if (delay > 0) {
            to.eventLoop().schedule(() -> writeNow(msg, to), delay, TimeUnit.NANOSECONDS);
        } else {
            writeNow(msg, to);
        }
    }

    private static void writeNow(Object msg, Channel to) {
        if (to.isActive()) {
            to.writeAndFlush(msg);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    /** The client-facing side. */
    private final class Front extends ChannelInboundHandlerAdapter {
        private @Nullable Pair pair;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            accepted.incrementAndGet();
            Channel front = ctx.channel();
            if (refuse) {
                closeChannel(front, true);
                return;
            }
            Pair p = new Pair(front);
            pair = p;
            pairs.add(p);
            new Bootstrap().group(front.eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(shaper(bytesPerSecond), new Back(p));
                        }
                    })
                    .connect(targetHost, targetPort)
                    .addListener((ChannelFutureListener) f -> {
                        if (f.isSuccess()) {
                            p.back = f.channel();
                            front.config().setAutoRead(true);
                            front.read();
                        } else {
                            p.close(true);
                        }
                    });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Pair p = pair;
            Channel back = p == null ? null : p.back;
            if (p == null || back == null) {
                ReferenceCountUtil.release(msg);
                return;
            }
            forward(msg, back, p.upstream);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (pair != null && !blackhole) {
                pair.close(false);
            } else if (pair != null) {
                pairs.remove(pair);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (pair != null) {
                pair.close(false);
            }
        }
    }

    /** The target-facing side. */
    private final class Back extends ChannelInboundHandlerAdapter {
        private final Pair pair;

        Back(Pair pair) {
            this.pair = pair;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf) {
                forward(msg, pair.front, pair.downstream);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!blackhole) {
                pair.close(false);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            pair.close(false);
        }
    }
}
