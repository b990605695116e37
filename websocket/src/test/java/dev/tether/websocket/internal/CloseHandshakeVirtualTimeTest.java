package dev.tether.websocket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Initiator;
import dev.tether.websocket.CloseState;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.Heartbeat;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The close-handshake state machine's timers in virtual time, on an in-memory channel. (The same
 * behaviour against real sockets is covered by the misbehaving-peer tests.)
 */
class CloseHandshakeVirtualTimeTest {

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final List<String> steps = new ArrayList<>();
    private @Nullable CloseSummary summary;

    @AfterEach
    void dispose() {
        time.dispose();
    }

    private EmbeddedChannel channel(boolean client, Heartbeat heartbeat, @Nullable Duration watchdog) {
        SessionSettings settings = new SessionSettings(client, Duration.ofSeconds(3), Duration.ofSeconds(1), heartbeat, watchdog,
                1 << 20, 1 << 20, 16, time);
        EmbeddedChannel ch = new EmbeddedChannel();
        CloseHandshakeHandler h = new CloseHandshakeHandler(ch, settings, null).observer(new SessionObserver() {
            @Override
            public void closeSent(int code, String reason) {
                steps.add("sent " + code);
            }

            @Override
            public void closeReceived(int code, String reason) {
                steps.add("received " + code);
            }

            @Override
            public void closed(CloseSummary s) {
                steps.add("closed");
                summary = s;
            }
        });
        ch.pipeline().addLast(CloseHandshakeHandler.NAME, h);
        return ch;
    }

    private static CloseHandshakeHandler handler(EmbeddedChannel ch) {
        return (CloseHandshakeHandler) ch.pipeline().get(CloseHandshakeHandler.NAME);
    }

    private void advance(EmbeddedChannel ch, Duration d) {
        time.advanceTimeBy(d);
        ch.runPendingTasks();
    }

    @Test
    void closeHandshakeTimerFiresExactlyAtItsBound() {
        EmbeddedChannel ch = channel(true, Heartbeat.disabled(), null);
        handler(ch).close(1000, "bye").subscribe();
        CloseWebSocketFrame sent = ch.readOutbound();
        assertThat(sent.statusCode()).isEqualTo(1000);
        sent.release();
        assertThat(handler(ch).state()).isEqualTo(CloseState.CLOSE_SENT);

        advance(ch, Duration.ofMillis(2999));
        assertThat(ch.isOpen()).isTrue();
        advance(ch, Duration.ofMillis(1));
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary).isNotNull();
        assertThat(summary.timersFired()).containsExactly(CloseTimer.CLOSE_HANDSHAKE_TIMEOUT);
        assertThat(summary.closingTook()).isEqualTo(Duration.ofSeconds(3));
        assertThat(summary.clean()).isFalse();
        assertThat(steps).containsExactly("sent 1000", "closed");
    }

    @Test
    void clientWaitsForTheServersFinThenClosesAfterTheTcpCloseWait() {
        EmbeddedChannel ch = channel(true, Heartbeat.disabled(), null);
        ch.writeInbound(new CloseWebSocketFrame(1001, "going"));
        CloseWebSocketFrame reply = ch.readOutbound();
        assertThat(reply.statusCode()).as("a received close frame is always answered").isEqualTo(1001);
        reply.release();
        assertThat(handler(ch).state()).isEqualTo(CloseState.HANDSHAKE_COMPLETE);

        advance(ch, Duration.ofMillis(999));
        assertThat(ch.isOpen()).isTrue();
        advance(ch, Duration.ofMillis(1));
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.clean()).isTrue();
        assertThat(summary.initiator()).isEqualTo(Initiator.REMOTE_PEER);
        assertThat(summary.timersFired()).containsExactly(CloseTimer.TCP_CLOSE_WAIT);
        assertThat(summary.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
        assertThat(steps).containsExactly("received 1001", "sent 1001", "closed");
    }

    @Test
    void serverClosesTcpAsSoonAsTheHandshakeCompletes() {
        EmbeddedChannel ch = channel(false, Heartbeat.disabled(), null);
        ch.writeInbound(new CloseWebSocketFrame(1000, ""));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.clean()).isTrue();
        assertThat(summary.timersFired()).isEmpty();
        assertThat(summary.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
    }

    @Test
    void anEmptyCloseFrameIsAnsweredWithAnEmptyOneNever1005OnTheWire() {
        EmbeddedChannel ch = channel(false, Heartbeat.disabled(), null);
        ch.writeInbound(new CloseWebSocketFrame(true, 0, io.netty.buffer.Unpooled.EMPTY_BUFFER));
        CloseWebSocketFrame reply = ch.readOutbound();
        assertThat(reply.content().readableBytes()).isZero();
        reply.release();
        assertThat(summary.codeReceived()).isEqualTo(CloseSummary.NO_STATUS);
        assertThat(summary.codeSent()).isEqualTo(CloseSummary.NO_STATUS);
    }

    @Test
    void missedPongDeclaresTheConnectionDeadButAnyInboundFrameCountsAsLife() {
        EmbeddedChannel ch = channel(true, Heartbeat.of(Duration.ofSeconds(10), Duration.ofSeconds(5)), null);
        advance(ch, Duration.ofSeconds(10));
        PingWebSocketFrame ping = ch.readOutbound();
        assertThat(ping).isNotNull();
        ping.release();
        advance(ch, Duration.ofSeconds(4));
        ch.writeInbound(new TextWebSocketFrame("still here"));
        advance(ch, Duration.ofSeconds(2));
        assertThat(ch.isOpen()).as("a data frame proved liveness").isTrue();

        advance(ch, Duration.ofSeconds(4));
        PingWebSocketFrame second = ch.readOutbound();
        assertThat(second).isNotNull();
        second.release();
        advance(ch, Duration.ofMillis(4999));
        assertThat(ch.isOpen()).isTrue();
        advance(ch, Duration.ofMillis(1));
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.timersFired()).containsExactly(CloseTimer.PONG_TIMEOUT);
        assertThat(summary.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
        CloseWebSocketFrame close = ch.readOutbound();
        assertThat(close.statusCode()).isEqualTo(1011);
        close.release();
    }

    @Test
    void pongsMeasureTheRoundTrip() {
        EmbeddedChannel ch = channel(true, Heartbeat.of(Duration.ofSeconds(1), Duration.ofSeconds(1)), null);
        advance(ch, Duration.ofSeconds(1));
        PingWebSocketFrame ping = ch.readOutbound();
        ch.writeInbound(new PongWebSocketFrame(ping.content()));
        assertThat(handler(ch).lastRoundTrip()).isPresent();
        advance(ch, Duration.ofMillis(1500));
        assertThat(ch.isOpen()).as("the answered ping left no deadline behind").isTrue();
        ch.close();
    }

    @Test
    void watchdogClosesWith1011WhenNoApplicationMessageArrives() {
        EmbeddedChannel ch = channel(true, Heartbeat.disabled(), Duration.ofSeconds(30));
        advance(ch, Duration.ofSeconds(20));
        ch.writeInbound(new TextWebSocketFrame("app message"));
        advance(ch, Duration.ofSeconds(29));
        assertThat(handler(ch).state()).isEqualTo(CloseState.OPEN);
        advance(ch, Duration.ofSeconds(1));
        assertThat(handler(ch).state()).isEqualTo(CloseState.CLOSE_SENT);
        CloseWebSocketFrame close = ch.readOutbound();
        assertThat(close.statusCode()).isEqualTo(1011);
        close.release();
        ch.writeInbound(new CloseWebSocketFrame(1011, ""));
        advance(ch, Duration.ofSeconds(1));
        assertThat(summary.timersFired()).containsExactly(CloseTimer.APPLICATION_WATCHDOG, CloseTimer.TCP_CLOSE_WAIT);
        assertThat(summary.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
    }

    @Test
    void aCloseFrameWrittenFromAboveBecomesOurHandshakeAndItsPromiseWaitsForTcp() {
        EmbeddedChannel ch = channel(false, Heartbeat.disabled(), null);
        var promise = ch.writeAndFlush(new CloseWebSocketFrame(1000, "from above"));
        CloseWebSocketFrame sent = ch.readOutbound();
        assertThat(sent.statusCode()).isEqualTo(1000);
        sent.release();
        assertThat(promise.isDone()).isFalse();
        ch.writeInbound(new CloseWebSocketFrame(1000, ""));
        ch.runPendingTasks();
        assertThat(promise.isSuccess()).isTrue();
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.clean()).isTrue();
        assertThat(ch.readOutbound() == null).as("exactly one close frame went out").isTrue();
    }

    @Test
    void aStalledReaderPausesReadingAndTheHeartbeatPassesNoVerdictMeanwhile() {
        EmbeddedChannel ch = channel(true, Heartbeat.of(Duration.ofSeconds(1), Duration.ofSeconds(1)), null);
        for (int i = 0; i < 16; i++) {
            ch.writeInbound(new TextWebSocketFrame("m" + i));
        }
        assertThat(ch.config().isAutoRead()).as("inbound buffer (16) full: reading paused").isFalse();
        advance(ch, Duration.ofSeconds(10));
        assertThat(ch.isOpen()).as("no pong verdict while we do not read").isTrue();
        assertThat((Object) ch.readOutbound()).as("no ping while paused").isNull();

        List<String> got = new ArrayList<>();
        handler(ch).receive().map(m -> m.text()).subscribe(got::add);
        assertThat(got).hasSize(16).startsWith("m0").endsWith("m15");
        assertThat(ch.config().isAutoRead()).isTrue();
        advance(ch, Duration.ofSeconds(1));
        PingWebSocketFrame ping = ch.readOutbound();
        assertThat(ping).as("heartbeat resumes with reading").isNotNull();
        ping.release();
        ch.close();
    }
}
