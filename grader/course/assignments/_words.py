"""Words of mistakes that more than one assignment declares (the same mistake in convolution and
pooling code), written once."""

STRIDE_POSITIONS_ZH = ("步长只用在了窗口位置上，输出尺寸没有除以步长：输出有 floor((n-f)/s)+1 个位置，"
                       "第 i 个输出取从 i*s 开始的窗口（不要把结果写在 out[i*s] 上、其余留 0）。")
STRIDE_POSITIONS_EN = ("The stride moves your windows but not your output: the output has floor((n-f)/s)+1 "
                       "positions and output i takes the window starting at i*s (do not write it to out[i*s] "
                       "and leave zeros in between).")
