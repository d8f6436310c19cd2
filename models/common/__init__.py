"""What the recipes share (import the modules, nothing is imported here).

  audio  ffmpeg decoding, resampling, end trimming, WAV files (numpy)
  mel    the models' log-mel front-end and Slaney filterbank (torch), the HTK filterbank
  pitch  YIN F0 (numpy)
  mcd    MCD-DTW and F0 of speech against a real recording (the TTS and cloning evaluations)
  data   the Debian packages: training and held-out lists, apt-get download + dpkg-deb -x,
         the asterisk transcripts
"""
