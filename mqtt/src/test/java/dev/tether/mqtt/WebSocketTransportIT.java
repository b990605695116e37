package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.FakeWebSocketBroker;
import dev.tether.testkit.Sockets;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.WebSocketClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.WebsocketServerSpec;

/**
 * MQTT over WebSocket uses the WebSocket client's close handshake: the same CloseSummary on the
 * lifecycle stream, the documented abort rule, and a lingering close when the client refuses what the
 * broker sends. The brokers are real Reactor Netty WebSocket servers.
 */
class WebSocketTransportIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int MAX_PACKET = 64 * 1024;

    private static CloseSummary awaitSummary(Recorder<LifecycleEvent> events) {
        LifecycleEvent.Notice n = (LifecycleEvent.Notice) events.await(e -> e instanceof LifecycleEvent.Notice notice
                && notice.kind().equals(WebSocketClient.CLOSED_NOTICE), WAIT);
        return (CloseSummary) n.details();
    }

    /**
     * The rule for abort(): no close frame, TCP closed at once, no CloseSent event; the summary says so.
     */
    @org.junit.jupiter.api.Test
    void abortSendsNoCloseFrameAndClosesTcpAtOnce() {
        try (FakeWebSocketBroker broker = FakeWebSocketBroker.start()) {
            MqttClient client = MqttClient.builder().endpoint(broker.wsUri()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            client.awaitConnected(WAIT).block();
            long t0 = System.nanoTime();
            client.abort().block(WAIT);
            long closedAt = broker.tcpClosed().next().block(WAIT);
            assertThat(Duration.ofNanos(closedAt - t0)).isLessThan(Duration.ofMillis(500));
            CloseSummary s = awaitSummary(events);
            assertThat(broker.closeFrames()).as("the broker saw no close frame").isEmpty();
            assertThat(broker.packetTypes()).containsExactly(1);
            assertThat(s.closeFrameSent()).isFalse();
            assertThat(s.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
            assertThat(s.initiator()).isEqualTo(dev.tether.core.Initiator.LOCAL_USER);
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.CloseSent);
        }
    }

    /**
     * The broker streams a packet larger than the client's maxPacketSize, either in many small frames
     * (the MQTT framer refuses it) or in frames larger than the limit (the WebSocket decoder refuses
     * them). The client says DISCONNECT 0x95, then its close frame 1009, then discards what still
     * comes until the broker's close frame: the broker reads the 1009, the close is clean, ten runs of ten.
     */
    @ParameterizedTest(name = "frames of {0} bytes")
    @ValueSource(ints = {16 * 1024, 256 * 1024})
    void theClientLingersAfterRefusingAnOversizedPacket(int frameSize) throws Exception {
        // The broker sends at most 12 MiB, below the client's lingering byte budget (16 MiB), so the close
        // depends on the broker reading the 1009, not on how fast it streamed before that.
        try (StreamingBroker broker = new StreamingBroker(frameSize, 12 * 1024 * 1024 / frameSize)) {
            for (int run = 0; run < 10; run++) {
                MqttClient client = MqttClient.builder().endpoint(broker.uri()).maxPacketSize(MAX_PACKET)
                        .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofSeconds(30)).maxDelay(Duration.ofSeconds(30)).build())
                        .build();
                Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
                client.start();
                try {
                    CloseSummary s = awaitSummary(events);
                    assertThat(s.codeSent()).as("run %d: %s", run, s).isEqualTo(1009);
                    assertThat(s.codeReceived()).as("run %d: the broker answered our close frame: %s", run, s).isEqualTo(1009);
                    assertThat(s.clean()).isTrue();
                    assertThat(s.initiator()).isEqualTo(dev.tether.core.Initiator.LOCAL_DETECTION);
                    assertThat(s.timersFired()).as("run %d: %s", run, s).isEmpty();
                    List<Integer> seen = broker.awaitClosed(run);
                    assertThat(seen).as("run %d: what the broker read: packet types, then close codes as -code", run)
                            .containsSubsequence(14, -1009);
                    assertThat(events.items()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(LifecycleEvent.CloseSent.class,
                            cs -> assertThat(cs.code()).isEqualTo(0x95)));
                } finally {
                    client.close().block(WAIT);
                }
            }
            assertThat(Sockets.awaitNoneEstablished(broker.port(), WAIT)).isTrue();
        }
    }

    /**
     * An MQTT 5 broker on Reactor Netty that answers CONNECT with CONNACK and then streams one PUBLISH
     * far larger than the client accepts (its header announces 64 MiB), frame after frame as the socket
     * takes them, up to a bound. It records per connection what it read: MQTT packet types, and the close
     * frames as negative codes. Reactor Netty answers a close frame and closes TCP.
     */
    static final class StreamingBroker implements AutoCloseable {
        private final DisposableServer server;
        private final int frameSize;
        private final int maxFrames;
        private final List<Sinks.One<List<Integer>>> closed = new CopyOnWriteArrayList<>();

        StreamingBroker(int frameSize, int maxFrames) {
            this.frameSize = frameSize;
            this.maxFrames = maxFrames;
            this.server = HttpServer.create().host("127.0.0.1").port(0)
                    .handle((req, res) -> res.sendWebsocket((in, out) -> {
                        Sinks.Empty<Void> done = Sinks.empty();
                        Sinks.One<List<Integer>> record = Sinks.one();
                        closed.add(record);
                        List<Integer> seen = new CopyOnWriteArrayList<>();
                        in.withConnection(conn -> {
                            conn.channel().closeFuture().addListener(f -> {
                                record.tryEmitValue(List.copyOf(seen));
                                done.tryEmitEmpty();
                            });
                            conn.channel().pipeline().addBefore(NettyPipeline.ReactiveBridge, "spy", new Spy(seen));
                        });
                        in.receiveFrames().subscribe(f -> { }, e -> { });
                        return done.asMono();
                    }, WebsocketServerSpec.builder().protocols("mqtt").maxFramePayloadLength(1024 * 1024).build()))
                    .bindNow();
        }

        String uri() {
            return "ws://127.0.0.1:" + server.port() + "/mqtt";
        }

        int port() {
            return server.port();
        }

        List<Integer> awaitClosed(int connection) {
            return Mono.defer(() -> connection < closed.size() ? closed.get(connection).asMono() : Mono.empty())
                    .repeatWhenEmpty(r -> r.delayElements(Duration.ofMillis(10)))
                    .block(WAIT);
        }

        @Override
        public void close() {
            server.disposeNow();
        }

        private final class Spy extends ChannelInboundHandlerAdapter {
            private final List<Integer> seen;

            Spy(List<Integer> seen) {
                this.seen = seen;
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof BinaryWebSocketFrame bin) {
                    int type = bin.content().getUnsignedByte(bin.content().readerIndex()) >> 4;
                    seen.add(type);
                    bin.release();
                    if (type == 1) {
                        ctx.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {0x20, 0x03, 0x00, 0x00, 0x00})));
                        // PUBLISH, remaining length 64 MiB (varint 0x80 0x80 0x80 0x20), then payload frames
                        ByteBuf first = Unpooled.buffer(frameSize);
                        first.writeBytes(new byte[] {0x30, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x20});
                        first.writeZero(frameSize - first.readableBytes());
                        stream(ctx.channel(), first, 0);
                    }
                    return;
                }
                if (msg instanceof CloseWebSocketFrame close) {
                    seen.add(-close.statusCode());
                }
                ctx.fireChannelRead(msg);
            }

            /** One frame after the other, each once the previous one is written; bounded. */
            private void stream(Channel ch, ByteBuf frame, int sent) {
                if (sent >= maxFrames || !ch.isActive()) {
                    frame.release();
                    return;
                }
                ch.writeAndFlush(new BinaryWebSocketFrame(frame)).addListener(f -> {
                    if (f.isSuccess()) {
                        stream(ch, Unpooled.wrappedBuffer(new byte[frameSize]), sent + 1);
                    }
                });
            }
        }
    }
}
