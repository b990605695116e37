package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PacketSizesTest {

    @Test
    void utf8LengthCountsWhatTheEncoderWrites() {
        String[] samples = {"", "a/b/c", "caf\u00e9/\u00fc", "\u20ac/\u4e2d\u6587", "emoji/\ud83d\ude00",
            "lone-high/\ud83d", "lone-low/\ude00x", "\u007f\u0080\u07ff\u0800\uffff"};
        for (String s : samples) {
            assertThat(PacketSizes.utf8Length(s)).as(s).isEqualTo(s.getBytes(StandardCharsets.UTF_8).length);
        }
    }
}
