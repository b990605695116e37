package dev.tether.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.testing.BuilderCopies;
import dev.tether.websocket.onebot.OneBotAnnouncer;
import java.time.Duration;
import java.util.Map;
import nl.jqno.equalsverifier.EqualsVerifier;
import org.junit.jupiter.api.Test;

/**
 * The WebSocket module's configuration: value types keep the equals/hashCode contract, every
 * toBuilder() carries every setting, and the client and server share one session spec.
 */
class ConfigurationContractTest {

    @Test
    void valueTypesKeepTheEqualsContract() {
        EqualsVerifier.forClass(WebSocketSessionSpec.class).verify();
        EqualsVerifier.forClass(WebSocketVerdicts.class).verify();
        EqualsVerifier.forClass(Heartbeat.class).verify();
    }

    private static final Map<Class<?>, Object> VALUES = Map.of(
            Heartbeat.class, Heartbeat.disabled(),
            WebSocketSessionSpec.class, WebSocketSessionSpec.builder().inboundBuffer(3).build(),
            WebSocketVerdicts.class, WebSocketVerdicts.builder().reconnectOnNormalClosure(true).build(),
            java.time.Clock.class, java.time.Clock.fixed(java.time.Instant.EPOCH, java.time.ZoneOffset.UTC));

    @Test
    void toBuilderCarriesEverySetting() {
        assertThat(BuilderCopies.assertCopiesEveryField(WebSocketSessionSpec.builder(), b -> b.build().toBuilder(), VALUES))
                .contains("heartbeat", "closeHandshakeTimeout", "maxFramePayload", "maxMessageBytes", "inboundBuffer",
                        "lingerTimeout", "lingerBytes", "compression");
        assertThat(BuilderCopies.assertCopiesEveryField(WebSocketVerdicts.builder(), b -> b.build().toBuilder(), VALUES))
                .contains("reconnectOnNormalClosure", "reconnectOnProtocolError", "tryAgainLaterDelay");
        assertThat(BuilderCopies.assertCopiesEveryField(WebSocketClient.builder(), b -> b.build().toBuilder(), VALUES))
                .contains("headers", "query", "subprotocols", "handshakeTimeout", "tcpCloseWait", "watchdog", "httpClient", "session", "verdicts");
        assertThat(BuilderCopies.assertCopiesEveryField(WebSocketServer.builder(), b -> b.build().toBuilder(), VALUES, "rateLimiter", "hosted"))
                .contains("host", "port", "path", "handler", "drainTimeout", "announcer", "authenticator", "maxSessions",
                        "handshakeTimeout", "maxOutboundBytes", "retryAfter", "phase", "session");
        assertThat(BuilderCopies.assertCopiesEveryField(OneBotAnnouncer.builder(10001L), b -> b.build().toBuilder(), VALUES))
                .contains("heartbeatInterval", "enableDisable", "online", "good", "clock");
    }

    @Test
    void clientAndServerShareOneSessionSpec() {
        WebSocketSessionSpec spec = WebSocketSessionSpec.builder()
                .heartbeat(Heartbeat.of(Duration.ofSeconds(7), Duration.ofSeconds(3)))
                .maxMessageBytes(4096).inboundBuffer(8).lingerTimeout(Duration.ofMillis(300)).build();
        assertThat(WebSocketClient.builder().session(spec).build().session()).isSameAs(spec);
        assertThat(WebSocketServer.builder().session(spec).build().session()).isSameAs(spec);
        assertThat(WebSocketServer.builder().build().session()).isEqualTo(WebSocketSessionSpec.defaults())
                .isEqualTo(WebSocketClient.builder().build().session());
        assertThat(WebSocketClient.builder().session(s -> s.maxMessageBytes(100)).session(s -> s.inboundBuffer(3)).build()
                .session()).as("session(change) composes").satisfies(s -> {
                    assertThat(s.maxMessageBytes()).isEqualTo(100);
                    assertThat(s.inboundBuffer()).isEqualTo(3);
                });
    }

    @Test
    void badSessionSettingsNameTheFieldAndTheValue() {
        assertThatThrownBy(() -> WebSocketSessionSpec.builder().maxFramePayload(124))
                .hasMessageContaining("maxFramePayload").hasMessageContaining("124");
        assertThatThrownBy(() -> WebSocketSessionSpec.builder().closeHandshakeTimeout(Duration.ZERO))
                .hasMessageContaining("closeHandshakeTimeout").hasMessageContaining("PT0S");
        assertThatThrownBy(() -> WebSocketVerdicts.builder().refreshCredentialsOnCloseCodes(999))
                .hasMessageContaining("999");
    }
}
