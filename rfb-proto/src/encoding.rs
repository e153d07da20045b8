//! Encoding and pseudo-encoding numbers.

use std::fmt;

/// An encoding or pseudo-encoding number, as sent in SetEncodings and rectangle headers.
///
/// Any `i32` is representable: numbers this crate does not know are kept as they are and
/// are never mistaken for Raw.
///
/// ```
/// use rfb_proto::Encoding;
/// assert_eq!(Encoding::ZRLE.0, 16);
/// assert_eq!(Encoding::JPEG_QUALITY_LEVEL_0.quality_level(), Some(0));
/// assert_eq!(Encoding(-25).quality_level(), Some(7));
/// assert_eq!(Encoding::COMPRESS_LEVEL_9.compress_level(), Some(9));
/// assert!(Encoding::LAST_RECT.is_pseudo());
/// assert_eq!(Encoding(12345).to_string(), "12345");
/// assert_eq!(Encoding::TIGHT.to_string(), "Tight");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Encoding(pub i32);

macro_rules! encodings {
    ($($(#[$doc:meta])* $name:ident = $value:expr, $label:expr;)*) => {
        impl Encoding {
            $($(#[$doc])* pub const $name: Encoding = Encoding($value);)*

            /// The name this crate knows the number by, if any (levels and ranges are
            /// named by their first member).
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $(v if v == $value => Some($label),)*
                    _ => None,
                }
            }
        }
    };
}

encodings! {
    /// 0: Raw.
    RAW = 0, "Raw";
    /// 1: CopyRect.
    COPY_RECT = 1, "CopyRect";
    /// 2: RRE.
    RRE = 2, "RRE";
    /// 4: CoRRE.
    CORRE = 4, "CoRRE";
    /// 5: Hextile.
    HEXTILE = 5, "Hextile";
    /// 6: Zlib.
    ZLIB = 6, "Zlib";
    /// 7: Tight.
    TIGHT = 7, "Tight";
    /// 8: ZlibHex.
    ZLIBHEX = 8, "ZlibHex";
    /// 9: Ultra.
    ULTRA = 9, "Ultra";
    /// 10: Ultra2.
    ULTRA2 = 10, "Ultra2";
    /// 15: TRLE.
    TRLE = 15, "TRLE";
    /// 16: ZRLE.
    ZRLE = 16, "ZRLE";
    /// 17: Hitachi ZYWRLE.
    ZYWRLE = 17, "ZYWRLE";
    /// 20: H.264.
    H264 = 20, "H.264";
    /// 21: JPEG.
    JPEG = 21, "JPEG";
    /// 22: JRLE.
    JRLE = 22, "JRLE";
    /// 50: Open H.264.
    OPEN_H264 = 50, "OpenH264";
    /// -260: TightPNG (noVNC).
    TIGHT_PNG = -260, "TightPNG";
    /// -32: JPEG quality level 0 (lowest); levels 0..=9 are -32..=-23.
    JPEG_QUALITY_LEVEL_0 = -32, "JPEGQualityLevel0";
    /// -23: JPEG quality level 9 (highest).
    JPEG_QUALITY_LEVEL_9 = -23, "JPEGQualityLevel9";
    /// -223: DesktopSize.
    DESKTOP_SIZE = -223, "DesktopSize";
    /// -224: LastRect.
    LAST_RECT = -224, "LastRect";
    /// -232: PointerPos (TightVNC / libvncserver).
    POINTER_POS = -232, "PointerPos";
    /// -239: Cursor (rich cursor).
    CURSOR = -239, "Cursor";
    /// -240: X Cursor.
    X_CURSOR = -240, "XCursor";
    /// -256: compression level 0 (fastest); levels 0..=9 are -256..=-247.
    COMPRESS_LEVEL_0 = -256, "CompressLevel0";
    /// -247: compression level 9 (smallest).
    COMPRESS_LEVEL_9 = -247, "CompressLevel9";
    /// -257: QEMU pointer motion change.
    QEMU_POINTER_MOTION_CHANGE = -257, "QEMUPointerMotionChange";
    /// -258: QEMU extended key event.
    QEMU_EXTENDED_KEY_EVENT = -258, "QEMUExtendedKeyEvent";
    /// -259: QEMU audio.
    QEMU_AUDIO = -259, "QEMUAudio";
    /// -261: QEMU LED state.
    QEMU_LED_STATE = -261, "QEMULEDState";
    /// -305: gii.
    GII = -305, "gii";
    /// -307: DesktopName.
    DESKTOP_NAME = -307, "DesktopName";
    /// -308: ExtendedDesktopSize.
    EXTENDED_DESKTOP_SIZE = -308, "ExtendedDesktopSize";
    /// -309: xvp.
    XVP = -309, "xvp";
    /// -312: Fence.
    FENCE = -312, "Fence";
    /// -313: ContinuousUpdates.
    CONTINUOUS_UPDATES = -313, "ContinuousUpdates";
    /// -314: Cursor with alpha.
    CURSOR_WITH_ALPHA = -314, "CursorWithAlpha";
    /// -316: ExtendedMouseButtons.
    EXTENDED_MOUSE_BUTTONS = -316, "ExtendedMouseButtons";
    /// -317: Tight without zlib.
    TIGHT_WITHOUT_ZLIB = -317, "TightWithoutZlib";
    /// -512: JPEG fine-grained quality 0; qualities 0..=100 are -512..=-412 (TurboVNC).
    JPEG_FINE_QUALITY_0 = -512, "JPEGFineQuality0";
    /// -412: JPEG fine-grained quality 100.
    JPEG_FINE_QUALITY_100 = -412, "JPEGFineQuality100";
    /// -768: JPEG subsampling 1X (none, 4:4:4).
    JPEG_SUBSAMPLING_1X = -768, "JPEGSubsamp1X";
    /// -767: JPEG subsampling 4X (4:2:0).
    JPEG_SUBSAMPLING_4X = -767, "JPEGSubsamp4X";
    /// -766: JPEG subsampling 2X (4:2:2).
    JPEG_SUBSAMPLING_2X = -766, "JPEGSubsamp2X";
    /// -765: JPEG grayscale.
    JPEG_SUBSAMPLING_GRAY = -765, "JPEGSubsampGray";
    /// -764: JPEG subsampling 8X.
    JPEG_SUBSAMPLING_8X = -764, "JPEGSubsamp8X";
    /// -763: JPEG subsampling 16X.
    JPEG_SUBSAMPLING_16X = -763, "JPEGSubsamp16X";
    /// 0x574d5664: VMware cursor.
    VMWARE_CURSOR = 0x574d_5664, "VMwareCursor";
    /// 0x574d5665: VMware cursor state.
    VMWARE_CURSOR_STATE = 0x574d_5665, "VMwareCursorState";
    /// 0x574d5666: VMware cursor position.
    VMWARE_CURSOR_POSITION = 0x574d_5666, "VMwareCursorPosition";
    /// 0x574d5667: VMware key repeat.
    VMWARE_KEY_REPEAT = 0x574d_5667, "VMwareKeyRepeat";
    /// 0x574d5668: VMware LED state.
    VMWARE_LED_STATE = 0x574d_5668, "VMwareLEDState";
    /// 0x574d5669: VMware display mode change.
    VMWARE_DISPLAY_MODE_CHANGE = 0x574d_5669, "VMwareDisplayModeChange";
    /// 0x574d566a: VMware virtual machine state.
    VMWARE_VM_STATE = 0x574d_566a, "VMwareVMState";
    /// 0xc0a1e5ce: Extended Clipboard.
    EXTENDED_CLIPBOARD = 0xc0a1_e5ce_u32 as i32, "ExtendedClipboard";
}

impl Encoding {
    /// JPEG quality level (0..=9) for the -32..=-23 pseudo-encodings.
    pub fn quality_level(self) -> Option<u8> {
        (-32..=-23).contains(&self.0).then(|| (self.0 + 32) as u8)
    }

    /// The pseudo-encoding for JPEG quality `level` (clamped to 0..=9).
    pub fn for_quality_level(level: u8) -> Encoding {
        Encoding(-32 + i32::from(level.min(9)))
    }

    /// Compression level (0..=9) for the -256..=-247 pseudo-encodings.
    pub fn compress_level(self) -> Option<u8> {
        (-256..=-247)
            .contains(&self.0)
            .then(|| (self.0 + 256) as u8)
    }

    /// The pseudo-encoding for compression `level` (clamped to 0..=9).
    pub fn for_compress_level(level: u8) -> Encoding {
        Encoding(-256 + i32::from(level.min(9)))
    }

    /// TurboVNC fine-grained JPEG quality (0..=100) for -512..=-412.
    pub fn fine_quality(self) -> Option<u8> {
        (-512..=-412)
            .contains(&self.0)
            .then(|| (self.0 + 512) as u8)
    }

    /// TurboVNC JPEG subsampling level for -768..=-763 (0 = 1X, 1 = 4X, 2 = 2X,
    /// 3 = grey, 4 = 8X, 5 = 16X).
    pub fn subsampling(self) -> Option<u8> {
        (-768..=-763)
            .contains(&self.0)
            .then(|| (self.0 + 768) as u8)
    }

    /// True for pseudo-encodings (numbers that declare a capability rather than a way to
    /// encode pixels): every negative number except TightPNG, plus the VMware and
    /// Extended Clipboard ranges.
    pub fn is_pseudo(self) -> bool {
        (self.0 < 0 && self != Encoding::TIGHT_PNG) || (0x574d_5600..=0x574d_56ff).contains(&self.0)
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.name() {
            return f.write_str(n);
        }
        if let Some(l) = self.quality_level() {
            return write!(f, "JPEGQualityLevel{l}");
        }
        if let Some(l) = self.compress_level() {
            return write!(f, "CompressLevel{l}");
        }
        if let Some(q) = self.fine_quality() {
            return write!(f, "JPEGFineQuality{q}");
        }
        write!(f, "{}", self.0)
    }
}
