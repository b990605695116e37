package dev.tether.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Which factories copy the caller's array and which take it over. */
class WebSocketMessageTest {

    @Test
    void binaryAndOfCopyTheArray() {
        byte[] a = {1, 2, 3};
        WebSocketMessage binary = WebSocketMessage.binary(a);
        WebSocketMessage of = WebSocketMessage.of(WebSocketMessage.Type.BINARY, a);
        a[0] = 9;
        assertThat(binary.bytes()).containsExactly(1, 2, 3);
        assertThat(of.bytes()).containsExactly(1, 2, 3);
    }

    @Test
    void wrapTakesTheArrayOverWithoutACopy() {
        byte[] a = {1, 2, 3};
        WebSocketMessage wrapped = WebSocketMessage.wrapBinary(a);
        assertThat(wrapped.type()).isEqualTo(WebSocketMessage.Type.BINARY);
        assertThat(wrapped).isEqualTo(WebSocketMessage.binary(new byte[]{1, 2, 3}));
        // Documented: a wrapped array that is changed anyway is followed by the message.
        a[0] = 9;
        assertThat(wrapped.bytes()).containsExactly(9, 2, 3);
        assertThat(wrapped.asReadOnlyBuffer().get(0)).isEqualTo((byte) 9);
        // bytes() still hands out a copy: the caller cannot change the message through it.
        wrapped.bytes()[1] = 7;
        assertThat(wrapped.bytes()).containsExactly(9, 2, 3);
    }

    @Test
    void wrapKeepsTheType() {
        WebSocketMessage text = WebSocketMessage.wrap(WebSocketMessage.Type.TEXT, "héllo".getBytes(StandardCharsets.UTF_8));
        assertThat(text.isText()).isTrue();
        assertThat(text.text()).isEqualTo("héllo");
        assertThat(text).isEqualTo(WebSocketMessage.text("héllo"));
    }

    @Test
    void wrapRefusesNull() {
        assertThatThrownBy(() -> WebSocketMessage.wrapBinary(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("bytes");
        assertThatThrownBy(() -> WebSocketMessage.wrap(null, new byte[0])).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("type");
    }
}
