package dev.tether.websocket;

import dev.tether.core.testing.TestAttempt;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Property-based fuzzing of the server's frame and close-frame handling from a raw socket: arbitrary
 * frames (any opcode, reserved bits, mask or not, lengths that lie), close frames with invalid codes,
 * 1005/1006/1015 on the wire and invalid UTF-8 reasons, and garbage after the upgrade. For every
 * input: the connection ends within a bound with a {@link CloseSummary}, no close frame the server
 * sends carries 1005/1006/1015, nothing reaches the end of a Netty pipeline unhandled, the registry
 * is back to the one well-behaved session, and that session keeps receiving. Fixed seed, bounded
 * tries, plus a committed seed corpus ({@code fuzz/frames.txt}).
 */
class FrameFuzzIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int MAX_FRAME = 4096;

    static WebSocketServer server;
    static WebSocketSession canary;
    static final Map<Integer, String> sessionByPort = new ConcurrentHashMap<>();
    static final Map<String, CloseSummary> closedById = new ConcurrentHashMap<>();
    static final List<String> pipelineErrors = new CopyOnWriteArrayList<>();
    static Disposable events;
    static Appender appender;

    /** Records log lines that mean an exception escaped handling on an event loop. */
    static final class Appender extends AppenderBase<ILoggingEvent> {
        @Override
        protected void append(ILoggingEvent e) {
            String m = e.getFormattedMessage();
            if (e.getLevel().isGreaterOrEqual(Level.ERROR) || m.contains("reached at the tail of the pipeline")
                    || m.contains("uncaught")) {
                pipelineErrors.add(e.getLoggerName() + ": " + m);
            }
        }
    }

    @BeforeContainer
    static void startServer() {
        appender = new Appender();
        appender.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(appender);
        server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws")
                .session(s -> s.maxFramePayload(MAX_FRAME)).session(s -> s.maxMessageBytes(4 * MAX_FRAME))
                .session(s -> s.closeHandshakeTimeout(Duration.ofMillis(500)))
                .connectRateLimiter(null)
                .build();
        events = server.events().subscribe(e -> {
            if (e instanceof ServerEvent.SessionOpened o && o.remote() instanceof java.net.InetSocketAddress a) {
                sessionByPort.put(a.getPort(), o.sessionId());
            } else if (e instanceof ServerEvent.SessionClosed c) {
                closedById.put(c.sessionId(), c.summary());
            }
        });
        server.start().block(WAIT);
        canary = WebSocketClient.builder().build().connect(new TestAttempt(Endpoint.of("ws://127.0.0.1:" + server.port() + "/ws")))
                .map(EstablishedSession::session).block(WAIT);
        ServerAuthenticationIT.awaitSessions(server, 1);
    }

    @AfterContainer
    static void stopServer() {
        events.dispose();
        server.disposeNow(WAIT);
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(appender);
    }

    // ------------------------------------------------------------------ properties

    @Property(tries = 120, seed = "20261122")
    void arbitraryFramesNeverHangLeakOrDisturbOtherSessions(@ForAll("inputs") List<byte[]> input) throws Exception {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        input.forEach(all::writeBytes);
        check(all.toByteArray());
    }

    @Example
    void seedCorpus() throws Exception {
        try (InputStream in = FrameFuzzIT.class.getResourceAsStream("/fuzz/frames.txt")) {
            assertThat(in).as("the committed seed corpus").isNotNull();
            List<String> lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
            assertThat(lines).hasSizeGreaterThan(15);
            for (String hex : lines) {
                check(HexFormat.of().parseHex(hex));
            }
        }
    }

    // ------------------------------------------------------------------ the check

    private static void check(byte[] bytes) throws Exception {
        String[] head = new String[1];
        Socket s = RawHttp.upgraded(server.port(), "/ws", "127.0.0.1", 0, head);
        assertThat(s).as("upgrade: %s", head[0]).isNotNull();
        try (s) {
            int port = s.getLocalPort();
            try {
                s.getOutputStream().write(bytes);
                s.getOutputStream().flush();
            } catch (IOException closedAlready) {
                // the server may close while we still write: that is an answer too
            }
            List<byte[]> frames = new ArrayList<>();
            boolean eof = readUntilEof(s, Duration.ofMillis(200), frames);
            if (!eof) {
                // valid so far (or waiting for more bytes): our FIN must end it all the same
                try {
                    s.shutdownOutput();
                } catch (IOException closedAlready) {
                    // fine
                }
                assertThat(readUntilEof(s, WAIT, frames)).as("the server closed the connection within 10 s").isTrue();
            }
            for (byte[] f : frames) {
                if ((f[0] & 0x0F) == 8 && f.length >= 4) {
                    int code = ((f[2] & 0xFF) << 8) | (f[3] & 0xFF);
                    assertThat(code).as("close code on the wire").isNotIn(1005, 1006, 1015).isBetween(1000, 4999);
                }
            }
            String id = awaitValue(() -> sessionByPort.get(port));
            CloseSummary summary = awaitValue(() -> closedById.get(id));
            assertThat(summary).as("the session ended with a summary").isNotNull();
        }
        assertThat(pipelineErrors).as("errors escaping handling on the event loop").isEmpty();
        assertThat(canary.state()).isEqualTo(CloseState.OPEN);
        ServerAuthenticationIT.awaitSessions(server, 1);
    }

    private static <T> T awaitValue(java.util.function.Supplier<T> value) {
        return Mono.fromSupplier(value).repeatWhenEmpty(r -> r.delayElements(Duration.ofMillis(5))).block(WAIT);
    }

    /** Reads server frames (unmasked) until EOF or the timeout; returns whether EOF was seen. */
    private static boolean readUntilEof(Socket s, Duration timeout, List<byte[]> frames) throws IOException {
        s.setSoTimeout((int) timeout.toMillis());
        InputStream in = s.getInputStream();
        try {
            while (true) {
                int b0 = in.read();
                if (b0 < 0) {
                    return true;
                }
                int b1 = in.read();
                if (b1 < 0) {
                    return true;
                }
                int len = b1 & 0x7F;
                if (len == 126) {
                    len = (in.read() << 8) | in.read();
                } else if (len == 127) {
                    long l = 0;
                    for (int i = 0; i < 8; i++) {
                        l = (l << 8) | in.read();
                    }
                    len = (int) Math.min(l, 1 << 20);
                }
                byte[] payload = in.readNBytes(len);
                byte[] frame = new byte[2 + payload.length];
                frame[0] = (byte) b0;
                frame[1] = (byte) b1;
                System.arraycopy(payload, 0, frame, 2, payload.length);
                frames.add(frame);
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    // ------------------------------------------------------------------ generators

    @Provide
    Arbitrary<List<byte[]>> inputs() {
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(4, frames()),
                        net.jqwik.api.Tuple.of(4, closeFrames()),
                        net.jqwik.api.Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(64)))
                .list().ofMinSize(1).ofMaxSize(4);
    }

    private static Arbitrary<byte[]> frames() {
        Arbitrary<Integer> opcode = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.of(0, 1, 2, 9, 10)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 15)));
        Arbitrary<Boolean> fin = Arbitraries.of(true, true, true, false);
        Arbitrary<Integer> rsv = Arbitraries.frequency(net.jqwik.api.Tuple.of(9, 0), net.jqwik.api.Tuple.of(1, 1),
                net.jqwik.api.Tuple.of(1, 7));
        Arbitrary<Boolean> masked = Arbitraries.frequency(net.jqwik.api.Tuple.of(9, true), net.jqwik.api.Tuple.of(1, false));
        Arbitrary<byte[]> payload = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.bytes().array(byte[].class).ofMaxSize(200)),
                net.jqwik.api.Tuple.of(2, Arbitraries.strings().ofMaxLength(100).map(t -> t.getBytes(StandardCharsets.UTF_8))),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(MAX_FRAME - 2, MAX_FRAME + 2000).map(byte[]::new)));
        Arbitrary<Integer> lie = Arbitraries.frequency(net.jqwik.api.Tuple.of(8, 0), net.jqwik.api.Tuple.of(1, 1),
                net.jqwik.api.Tuple.of(1, -1), net.jqwik.api.Tuple.of(1, 2));
        return Combinators.combine(opcode, fin, rsv, masked, payload, lie).as(FrameFuzzIT::frame);
    }

    private static Arbitrary<byte[]> closeFrames() {
        Arbitrary<Integer> code = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.of(0, 999, 1000, 1001, 1004, 1005, 1006, 1011, 1012, 1014, 1015, 1016,
                        2999, 3000, 4999, 5000, 65535)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0, 65535)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(-1)));
        Arbitrary<byte[]> reason = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.strings().ofMaxLength(40).map(t -> t.getBytes(StandardCharsets.UTF_8))),
                net.jqwik.api.Tuple.of(2, Arbitraries.of(new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0x80},
                        new byte[] {(byte) 0xFF, (byte) 0xFE}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})),
                net.jqwik.api.Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMinSize(100).ofMaxSize(140)));
        Arbitrary<Boolean> fin = Arbitraries.of(true, true, true, false);
        return Combinators.combine(code, reason, fin).as((c, r, f) -> {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            if (c >= 0) {
                p.write(c >> 8);
                p.write(c & 0xFF);
                p.writeBytes(r);
            } else {
                p.write(0x03); // one byte only: an invalid close payload
            }
            return frame(8, f, 0, true, p.toByteArray(), 0);
        });
    }

    /** A client frame with a zero masking key; {@code lie} changes the declared length by that much. */
    private static byte[] frame(int opcode, boolean fin, int rsv, boolean masked, byte[] payload, int lie) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write((fin ? 0x80 : 0) | (rsv << 4) | opcode);
        long declared = Math.max(0, payload.length + lie);
        int mask = masked ? 0x80 : 0;
        if (declared < 126) {
            f.write(mask | (int) declared);
        } else if (declared <= 0xFFFF) {
            f.write(mask | 126);
            f.write((int) (declared >> 8));
            f.write((int) (declared & 0xFF));
        } else {
            f.write(mask | 127);
            for (int i = 7; i >= 0; i--) {
                f.write((int) (declared >> (8 * i)));
            }
        }
        if (masked) {
            f.writeBytes(new byte[4]);
        }
        f.writeBytes(payload);
        return f.toByteArray();
    }
}
