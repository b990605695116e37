package dev.tether.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Inputs found by {@link FrameFuzzIT}, kept as plain tests. A close frame with a code that may not
 * be sent was once echoed back as is (5000 went on the wire); it is answered with 1002 now.
 */
class CloseFrameRegressionIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    static WebSocketServer server;

    @BeforeAll
    static void start() {
        server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws").build();
        server.start().block(WAIT);
    }

    @AfterAll
    static void stop() {
        server.disposeNow(WAIT);
    }

    @ParameterizedTest
    @ValueSource(ints = {5000, 65535})
    void aCloseFrameWithACodeBeyondTheRangeIsAnsweredWith1002NotEchoed(int code) throws Exception {
        try (RawClient c = new RawClient(server.port(), "/ws", true, false)) {
            c.send(8, new byte[] {(byte) (code >> 8), (byte) code});
            assertThat(c.awaitEof(WAIT)).isTrue();
            assertThat(c.closeCodes).containsExactly(1002);
        }
    }

    /**
     * The frame decoder refuses these codes itself. The code is never echoed: the server says 1002 and,
     * since the client's close frame is in (an invalid one), closes TCP once its own frame is out. The
     * session's summary says 1002 was sent and no valid close frame arrived.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999})
    void aCloseFrameWithAReservedOrInvalidCodeIsNeverEchoedAndTheConnectionIsClosed(int code) throws Exception {
        reactor.core.publisher.Mono<ServerEvent.SessionClosed> closed = server.events().ofType(ServerEvent.SessionClosed.class)
                .next().cache();
        closed.subscribe();
        try (RawClient c = new RawClient(server.port(), "/ws", true, false)) {
            c.send(8, new byte[] {(byte) (code >> 8), (byte) code});
            assertThat(c.awaitEof(WAIT)).isTrue();
            assertThat(c.closeCodes).doesNotContain(code).containsExactly(1002);
        }
        ServerEvent.SessionClosed s = closed.block(WAIT);
        assertThat(s.summary().codeSent()).isEqualTo(1002);
        assertThat(s.summary().closeFrameReceived()).isFalse();
        assertThat(s.summary().clean()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {1000, 1001, 1011, 3000, 4999})
    void aCloseFrameWithAValidCodeIsEchoed(int code) throws Exception {
        try (RawClient c = new RawClient(server.port(), "/ws", true, false)) {
            c.send(8, new byte[] {(byte) (code >> 8), (byte) code});
            assertThat(c.awaitEof(WAIT)).isTrue();
            assertThat(c.closeCodes).containsExactly(code);
        }
    }
}
