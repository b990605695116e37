package dev.tether.websocket;

import dev.tether.websocket.onebot.OneBotAnnouncer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.Credentials;
import dev.tether.core.Initiator;
import dev.tether.core.Verdict;
import dev.tether.websocket.internal.transport.Upgrades;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The WebSocket row of the default verdict table, Retry-After parsing, and configuration checks. */
class VerdictTableTest {

    private final WebSocketClient client = WebSocketClient.builder().verdicts(v -> v.tryAgainLaterDelay(Duration.ofSeconds(7))).build();

    private Verdict.Kind closeCode(int code) {
        return client.verdicts().forCloseCode(code).kind();
    }

    @Test
    void closeCodes() {
        assertThat(closeCode(1000)).isEqualTo(Verdict.Kind.FATAL);
        assertThat(client.verdicts().forCloseCode(1000).explanation()).contains("reconnectOnNormalClosure");
        for (int code : new int[] {1002, 1003, 1007, 1008, 1009, 1010}) {
            assertThat(closeCode(code)).as("code %d", code).isEqualTo(Verdict.Kind.FATAL);
        }
        for (int code : new int[] {1001, 1005, 1006, 1011, 1012, 1014, 4000}) {
            assertThat(closeCode(code)).as("code %d", code).isEqualTo(Verdict.Kind.RETRY);
        }
        assertThat(client.verdicts().forCloseCode(1013).minimumDelay()).isEqualTo(Duration.ofSeconds(7));

        WebSocketClient lenient = client.toBuilder().verdicts(v -> v.reconnectOnNormalClosure(true)).verdicts(v -> v.reconnectOnProtocolError(true))
                .verdicts(v -> v.refreshCredentialsOnCloseCodes(1008, 4401)).build();
        assertThat(lenient.verdicts().forCloseCode(1000).kind()).isEqualTo(Verdict.Kind.RETRY);
        assertThat(lenient.verdicts().forCloseCode(1002).kind()).isEqualTo(Verdict.Kind.RETRY);
        assertThat(lenient.verdicts().forCloseCode(1008).kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
        assertThat(lenient.verdicts().forCloseCode(4401).kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
    }

    @Test
    void httpStatuses() {
        assertThat(client.verdicts().forStatus(401, null).kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
        assertThat(client.verdicts().forStatus(403, null).kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
        assertThat(client.verdicts().forStatus(429, Duration.ofSeconds(30)).minimumDelay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(client.verdicts().forStatus(503, null).minimumDelay()).isEqualTo(Duration.ofSeconds(7));
        assertThat(client.verdicts().forStatus(500, null).kind()).isEqualTo(Verdict.Kind.RETRY);
        assertThat(client.verdicts().forStatus(404, null).kind()).isEqualTo(Verdict.Kind.FATAL);
        assertThat(client.verdicts().forStatus(400, null).kind()).isEqualTo(Verdict.Kind.FATAL);
    }

    @Test
    void classifierReadsTheExceptionsWhereverTheyAreInTheChain() {
        CloseSummary peer1012 = new CloseSummary(true, Initiator.REMOTE_PEER, 1012, "", 1012, "restart",
                CloseSummary.Side.PEER, List.of(), Duration.ZERO);
        assertThat(client.classifier().classify(new RuntimeException(new WebSocketClosedException(peer1012))))
                .hasValueSatisfying(v -> assertThat(v.kind()).isEqualTo(Verdict.Kind.RETRY));
        assertThat(client.classifier().classify(new WebSocketUpgradeException(401, null, null)))
                .hasValueSatisfying(v -> assertThat(v.kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY));
        assertThat(client.classifier().classify(new java.io.IOException("reset"))).isEmpty();
    }

    @Test
    void retryAfterInSecondsOrAsAnHttpDate() {
        assertThat(Upgrades.parseRetryAfter("120")).isEqualTo(Duration.ofSeconds(120));
        assertThat(Upgrades.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).isEqualTo(Duration.ZERO);
        assertThat(Upgrades.parseRetryAfter("soon")).isNull();
        assertThat(Upgrades.parseRetryAfter(null)).isNull();
    }

    @Test
    void secretsStayOutOfHeadersDescriptionsAndBuildersNameBadValues() {
        assertThat(WebSocketClient.authorizationHeader(Credentials.token("t0k3n"))).contains("Bearer t0k3n");
        assertThat(WebSocketClient.authorizationHeader(Credentials.of("bot", "pw"))).contains("Basic Ym90OnB3");
        assertThat(WebSocketClient.authorizationHeader(Credentials.none())).isEmpty();
        assertThat(WebSocketMessage.text("password=hunter2").toString()).doesNotContain("hunter2");
        assertThat(client.toString()).contains("closeHandshakeTimeout");

        assertThatThrownBy(() -> WebSocketClient.builder().session(s -> s.maxFramePayload(10))).hasMessageContaining("maxFramePayload")
                .hasMessageContaining("10");
        assertThatThrownBy(() -> WebSocketClient.builder().verdicts(v -> v.refreshCredentialsOnCloseCodes(99))).hasMessageContaining("99");
        assertThatThrownBy(() -> WebSocketClient.builder().subprotocols("a,b")).hasMessageContaining("a,b");
        assertThatThrownBy(() -> Heartbeat.of(Duration.ZERO, Duration.ofSeconds(1))).hasMessageContaining("interval");
        assertThatThrownBy(() -> OneBotAnnouncer.builder(1).heartbeatInterval(Duration.ofSeconds(-1)))
                .hasMessageContaining("heartbeatInterval");
        assertThat(Heartbeat.of(Duration.ofSeconds(1), Duration.ofSeconds(2))).isEqualTo(Heartbeat.of(Duration.ofSeconds(1),
                Duration.ofSeconds(2))).hasSameHashCodeAs(Heartbeat.of(Duration.ofSeconds(1), Duration.ofSeconds(2)));
        assertThat(WebSocketMessage.text("a")).isEqualTo(WebSocketMessage.text("a")).isNotEqualTo(WebSocketMessage.binary(new byte[] {'a'}));
    }
}
