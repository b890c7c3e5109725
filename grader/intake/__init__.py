"""Taking submissions in: finding, recognising and unzipping the files a class hands in."""
