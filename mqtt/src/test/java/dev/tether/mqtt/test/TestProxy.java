package dev.tether.mqtt.test;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal fault-injecting TCP proxy on 127.0.0.1: {@link #cutAll()} resets every connection (RST),
 * {@link #blackhole(boolean)} stops forwarding while the sockets stay open (half-open connection),
 * {@link #refuse(boolean)} resets new connections at once.
 */
public final class TestProxy implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Set<Channel[]> pairs = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final Channel server;
    private volatile boolean blackhole;
    private volatile boolean refuse;

    private TestProxy(String host, int port) {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel front) {
                        accepted.incrementAndGet();
                        if (refuse) {
                            front.config().setOption(ChannelOption.SO_LINGER, 0);
                            front.close();
                            return;
                        }
                        Channel[] pair = {front, null};
                        pairs.add(pair);
                        front.closeFuture().addListener(f -> close(pair, false));
                        front.pipeline().addLast(new Relay(pair, 1));
                        new Bootstrap().group(front.eventLoop()).channel(NioSocketChannel.class)
                                .handler(new Relay(pair, 0))
                                .connect(host, port).addListener((ChannelFutureListener) f -> {
                                    if (f.isSuccess()) {
                                        pair[1] = f.channel();
                                        f.channel().closeFuture().addListener(x -> close(pair, false));
                                        front.config().setAutoRead(true);
                                    } else {
                                        close(pair, true);
                                    }
                                });
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    /**
     * @param host target host
     * @param port target port
     * @return a running proxy
     */
    public static TestProxy start(String host, int port) {
        return new TestProxy(host, port);
    }

    /** @return the proxy's port */
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** @return e.g. {@code tcp://127.0.0.1:port} */
    public String tcpUri() {
        return "tcp://127.0.0.1:" + port();
    }

    /** @param on stop (true) or resume (false) forwarding; sockets stay open */
    public void blackhole(boolean on) {
        blackhole = on;
    }

    /** @param on reset new connections at once (true) or accept them again (false) */
    public void refuse(boolean on) {
        refuse = on;
    }

    /** Resets every open connection on both sides. */
    public void cutAll() {
        pairs.forEach(p -> close(p, true));
    }

    /** @return connections accepted since start */
    public int acceptedCount() {
        return accepted.get();
    }

    /** @return client connections open through the proxy now */
    public int connectionCount() {
        return pairs.size();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        cutAll();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void close(Channel[] pair, boolean reset) {
        if (blackhole && !reset) {
            return;
        }
        pairs.remove(pair);
        for (Channel c : pair) {
            if (c != null) {
                c.eventLoop().execute(() -> {
                    if (c.isOpen()) {
                        if (reset) {
                            try {
                                c.config().setOption(ChannelOption.SO_LINGER, 0);
                            } catch (io.netty.channel.ChannelException alreadyClosing) {
                                // closed by the peer meanwhile: a plain close is all that is left
                            }
                        }
                        c.close();
                    }
                });
            }
        }
    }

    /** Copies bytes to the other side of the pair. */
    private final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel[] pair;
        private final int to;

        Relay(Channel[] pair, int to) {
            this.pair = pair;
            this.to = to;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel target = pair[to];
            if (blackhole || target == null || !target.isActive()) {
                ReferenceCountUtil.release(msg);
            } else {
                target.writeAndFlush(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
